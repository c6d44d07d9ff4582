// --config-check=CMD: before any roll, a new config snapshot is written to
// a directory and CMD runs against it (/bin/sh -c, with CORRAL_CONFIG_DIR
// set). Exit 0 means valid; anything else rejects the change, with CMD's
// output in the rejection. The master's loop never waits for it.
#ifndef CORRAL_COMMAND_CONFIG_CHECK_H_
#define CORRAL_COMMAND_CONFIG_CHECK_H_

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"

namespace corral::command {

class ConfigCheck {
 public:
  ConfigCheck(boost::asio::io_context& io, std::string command, std::string dir,
              absl::Duration timeout);
  ~ConfigCheck();

  // Checks `snapshot`; `done` gets OK or why it was rejected. A check still
  // running is abandoned (killed; its `done` is never called): the newest
  // change is the one that matters.
  void Start(const config::Snapshot& snapshot,
             std::function<void(absl::Status)> done);
  // The master reaped `pid`; true when it was the check.
  bool OnChildExit(pid_t pid, int status);

 private:
  void ReadOutput();
  void Finish(absl::Status result);
  void Abandon();

  boost::asio::io_context& io_;
  std::string command_;
  std::string dir_;
  absl::Duration timeout_;
  boost::asio::steady_timer deadline_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> output_pipe_;
  std::array<char, 1024> buffer_{};
  std::string output_;
  pid_t pid_ = 0;
  std::optional<int> status_;
  bool output_done_ = false;
  std::function<void(absl::Status)> done_;
};

}  // namespace corral::command

#endif  // CORRAL_COMMAND_CONFIG_CHECK_H_
