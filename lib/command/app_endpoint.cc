#include "command/app_endpoint.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "command/listener_owner.h"
#include "pool/worker_env.h"

namespace corral::command {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Whether something accepts connections at `addr` right now.
bool AcceptingAt(const sockaddr* addr, socklen_t len) {
  int fd =
      socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, addr, len) == 0;
  if (!ok && errno == EINPROGRESS) {
    // On loopback the handshake takes microseconds; a full backlog makes
    // it slow, and then the next tick asks again. (A unix socket connects
    // at once, or fails with EAGAIN when its backlog is full.)
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t err_len = sizeof(err);
    ok = poll(&p, 1, 10) == 1 &&
         getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) == 0 && err == 0;
  }
  close(fd);
  return ok;
}

bool CanBind(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Loopback(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

int EphemeralPortsStart() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (in >> low && low > 2048) return low;
  return 32768;
}

}  // namespace

AppEndpoint AppEndpoint::Port(uint16_t port) {
  AppEndpoint e;
  e.kind_ = Kind::kPort;
  e.id_ = port;
  return e;
}

AppEndpoint AppEndpoint::Socket(const std::string& dir, uint32_t id) {
  AppEndpoint e;
  e.kind_ = Kind::kSocket;
  e.id_ = id;
  e.path_ = pool::AppSocketPath(dir, id);
  return e;
}

std::string AppEndpoint::PortEnv() const {
  return kind_ == Kind::kSocket ? path_ : absl::StrCat(id_);
}

bool AppEndpoint::Accepting() const {
  switch (kind_) {
    case Kind::kPort: {
      sockaddr_in addr = Loopback(port());
      return AcceptingAt(reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    }
    case Kind::kSocket: {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
      return AcceptingAt(reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    }
    case Kind::kNone:
      break;
  }
  return false;
}

bool AppEndpoint::AcceptingFrom(pid_t pid) const {
  if (!Accepting()) return false;
  // A socket's path is the copy's alone: a new id for each copy.
  if (kind_ != Kind::kPort) return true;
  return LoopbackListenerOwner(pid, port()) != ListenerOwner::kOther;
}

void AppEndpoint::RemoveSocket() const {
  if (kind_ == Kind::kSocket) ::unlink(path_.c_str());
}

void AppEndpoint::AddTo(nlohmann::json& entry) const {
  if (kind_ == Kind::kSocket) {
    entry["socket"] = path_;
  } else {
    entry["port"] = id_;
  }
}

absl::StatusOr<uint16_t> FreeLoopbackPort(const std::set<uint16_t>& taken) {
  for (int port = EphemeralPortsStart() - 1; port > 1024; --port) {
    const auto p = static_cast<uint16_t>(port);
    if (!taken.count(p) && CanBind(p)) return p;
  }
  return absl::ResourceExhaustedError(
      "no free port on 127.0.0.1 for an app process");
}

}  // namespace corral::command
