// How a copy of the command tells corral that it is ready and alive: the
// systemd way, datagrams on its own NOTIFY_SOCKET (READY=1, WATCHDOG=1,
// STATUS=..., STOPPING=1), and the way any program can, a line on its ready
// pipe ($CORRAL_READY_FD). Which of the two count as ready is the --ready
// mode's call; --ready=alive and port are decided by the caller's clock and
// probe.
#ifndef CORRAL_COMMAND_READINESS_H_
#define CORRAL_COMMAND_READINESS_H_

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "options/options.h"

namespace corral::command {

// One notify message, split into its assignments ("READY=1\nSTATUS=x").
std::map<std::string, std::string> ParseNotify(std::string_view message);

// When a copy counts as ready, for the log: "when it sends READY=1 on
// $NOTIFY_SOCKET", ... `socket` says a port-mode copy listens on a unix
// socket.
std::string DescribeReadiness(Readiness mode, absl::Duration ready_after,
                              bool socket);

// One copy's notify socket and ready pipe.
class ReadyChannels {
 public:
  struct Handlers {
    // READY=1 or a line on the pipe, as the mode allows; `how` says which.
    std::function<void(std::string_view how)> ready;
    std::function<void()> watchdog;                  // WATCHDOG=1
    std::function<void(const std::string&)> status;  // STATUS=...
    std::function<void()> stopping;                  // STOPPING=1
  };

  // `name` makes the notify socket's address (abstract: nothing on the
  // filesystem, so it works on a read-only root) unique to this copy.
  static absl::StatusOr<std::unique_ptr<ReadyChannels>> Open(
      boost::asio::io_context& io, const std::string& name, Readiness mode);
  ~ReadyChannels();

  // NOTIFY_SOCKET's value ("@name").
  const std::string& notify_address() const { return address_; }
  // The pipe's end for the copy; closed here once the copy has its own.
  int pipe_write_fd() const { return pipe_write_; }
  void ClosePipeWriteEnd();
  // Reads both until they close; the handlers run on the io_context.
  void Start(Handlers handlers);

 private:
  ReadyChannels(boost::asio::io_context& io, Readiness mode);
  void ReceiveNotify();
  void ReadPipe();
  void OnNotify(std::string_view message);

  Readiness mode_;
  std::string address_;
  boost::asio::local::datagram_protocol::socket notify_;
  boost::asio::posix::stream_descriptor pipe_;
  int pipe_write_ = -1;
  Handlers handlers_;
  std::string pipe_buffer_;
  std::array<char, 4096> datagram_{};
  std::array<char, 256> pipe_read_{};
};

}  // namespace corral::command

#endif  // CORRAL_COMMAND_READINESS_H_
