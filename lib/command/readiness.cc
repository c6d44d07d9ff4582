#include "command/readiness.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace corral::command {

namespace asio = boost::asio;
using Datagram = asio::local::datagram_protocol;

std::map<std::string, std::string> ParseNotify(std::string_view message) {
  std::map<std::string, std::string> out;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(message.data(), message.size()), '\n',
                      absl::SkipEmpty())) {
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

std::string DescribeReadiness(Readiness mode, absl::Duration ready_after,
                              bool socket) {
  switch (mode) {
    case Readiness::kNotify:
      return "when it sends READY=1 on $NOTIFY_SOCKET";
    case Readiness::kPipe:
      return "when it writes a line to descriptor $CORRAL_READY_FD";
    case Readiness::kPort:
      return socket ? "when it accepts connections on its unix socket $PORT"
                    : "when it accepts connections on 127.0.0.1:$PORT";
    case Readiness::kAlive:
    case Readiness::kAuto:
      break;
  }
  return absl::StrCat("once alive for ", absl::FormatDuration(ready_after),
                      " (or when it says READY=1 or writes to "
                      "$CORRAL_READY_FD first)");
}

ReadyChannels::ReadyChannels(asio::io_context& io, Readiness mode)
    : mode_(mode), notify_(io), pipe_(io) {}

absl::StatusOr<std::unique_ptr<ReadyChannels>> ReadyChannels::Open(
    asio::io_context& io, const std::string& name, Readiness mode) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("notify socket: ", std::strerror(errno)));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("notify socket @", name, ": ", std::strerror(err)));
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat("ready pipe: ", std::strerror(errno)));
  }
  std::unique_ptr<ReadyChannels> c(new ReadyChannels(io, mode));
  c->address_ = "@" + name;
  c->notify_.assign(Datagram(), fd);
  c->pipe_.assign(pipe_fds[0]);
  c->pipe_write_ = pipe_fds[1];
  return c;
}

ReadyChannels::~ReadyChannels() { ClosePipeWriteEnd(); }

void ReadyChannels::ClosePipeWriteEnd() {
  if (pipe_write_ >= 0) close(pipe_write_);
  pipe_write_ = -1;
}

void ReadyChannels::Start(Handlers handlers) {
  handlers_ = std::move(handlers);
  ReceiveNotify();
  ReadPipe();
}

// A handler that runs after the channels are gone sees operation_aborted
// (their descriptors closed with them) and touches nothing.
void ReadyChannels::ReceiveNotify() {
  notify_.async_receive(asio::buffer(datagram_),
                        [this](boost::system::error_code ec, size_t n) {
                          if (ec == asio::error::operation_aborted) return;
                          if (!ec) {
                            OnNotify(std::string_view(datagram_.data(), n));
                          }
                          ReceiveNotify();
                        });
}

void ReadyChannels::ReadPipe() {
  pipe_.async_read_some(asio::buffer(pipe_read_),
                        [this](boost::system::error_code ec, size_t n) {
                          if (ec) return;  // EOF: the copy closed it, or exited
                          pipe_buffer_.append(pipe_read_.data(), n);
                          if (pipe_buffer_.find('\n') != std::string::npos) {
                            pipe_buffer_.clear();
                            if (mode_ != Readiness::kNotify) {
                              handlers_.ready("a line on the ready pipe");
                            }
                          } else if (pipe_buffer_.size() > 4096) {
                            pipe_buffer_.clear();
                          }
                          ReadPipe();
                        });
}

void ReadyChannels::OnNotify(std::string_view message) {
  std::map<std::string, std::string> fields = ParseNotify(message);
  auto is_one = [&](const char* key) {
    auto it = fields.find(key);
    return it != fields.end() && it->second == "1";
  };
  if (is_one("WATCHDOG")) handlers_.watchdog();
  if (auto s = fields.find("STATUS"); s != fields.end()) {
    handlers_.status(s->second);
  }
  if (is_one("READY") && mode_ != Readiness::kPipe) handlers_.ready("READY=1");
  if (is_one("STOPPING")) handlers_.stopping();
}

}  // namespace corral::command
