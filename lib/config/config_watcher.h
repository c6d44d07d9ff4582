// Watches a config directory with inotify on the master's event loop. Fires
// once per burst of changes (debounced): the kubelet's `..data` swap, or
// files edited in place. Re-arms if the directory itself is replaced.
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

class ConfigWatcher {
 public:
  ConfigWatcher(boost::asio::io_context& io, std::string dir,
                std::chrono::milliseconds debounce,
                std::function<void(std::string_view why)> on_change);
  ~ConfigWatcher();

  absl::Status Start();

 private:
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
  int watch_ = -1;
  std::string pending_why_;
};

}  // namespace corral::config

#endif  // CORRAL_CONFIG_CONFIG_WATCHER_H_
