// Watches a config directory with inotify on the master's event loop. Fires
// once per burst of changes (debounced): the kubelet's `..data` swap, or
// files edited in place. Re-arms if the directory itself is replaced. Where
// inotify cannot be set up (too many instances, or not supported), it polls
// the directory instead.
#ifndef CORRAL_CONFIG_CONFIG_WATCHER_H_
#define CORRAL_CONFIG_CONFIG_WATCHER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace corral::config {

// Whether one inotify event (name and mask) can change the snapshot. Pure.
bool IsRelevantEvent(std::string_view name, uint32_t mask);

// What polling compares: where `..data` points, or, for a plain directory,
// each file's name, size, mtime and inode. Changes whenever a snapshot read
// could.
std::string DirFingerprint(const std::string& dir);

class ConfigWatcher {
 public:
  ConfigWatcher(boost::asio::io_context& io, std::string dir,
                std::chrono::milliseconds debounce,
                std::function<void(std::string_view why)> on_change);
  ~ConfigWatcher();

  // Never fails: without inotify it polls every `poll_period`, and says so.
  void Start(std::chrono::milliseconds poll_period = std::chrono::seconds(1));
  bool polling() const { return polling_; }

 private:
  absl::Status StartInotify();
  void Poll();
  void Arm();
  void WaitForEvents();
  void OnEvents();
  void Changed(std::string_view why);
  void Rewatch();

  std::string dir_;
  std::chrono::milliseconds debounce_;
  std::function<void(std::string_view)> on_change_;
  boost::asio::posix::stream_descriptor inotify_;
  boost::asio::steady_timer debounce_timer_;
  boost::asio::steady_timer rewatch_timer_;
  boost::asio::steady_timer poll_timer_;
  std::chrono::milliseconds poll_period_{1000};
  bool polling_ = false;
  std::string fingerprint_;
  int watch_ = -1;
  std::string pending_why_;
};

}  // namespace corral::config

#endif  // CORRAL_CONFIG_CONFIG_WATCHER_H_
