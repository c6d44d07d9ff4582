// Where a copy of the command listens in proxy mode: a port on 127.0.0.1,
// or a unix socket in the master's socket directory (--app-socket-dir).
// Outside proxy mode a copy has none: it takes the shared listening socket.
#ifndef CORRAL_COMMAND_APP_ENDPOINT_H_
#define CORRAL_COMMAND_APP_ENDPOINT_H_

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace corral::command {

class AppEndpoint {
 public:
  AppEndpoint() = default;  // none
  static AppEndpoint Port(uint16_t port);
  // The socket `id` in `dir` (pool::AppSocketPath). Each copy gets a new
  // id: a socket an earlier process left never answers for it.
  static AppEndpoint Socket(const std::string& dir, uint32_t id);

  bool none() const { return kind_ == Kind::kNone; }
  // The port on 127.0.0.1; 0 for a socket or none.
  uint16_t port() const {
    return kind_ == Kind::kPort ? static_cast<uint16_t>(id_) : 0;
  }
  // The value of the copy's $PORT: the port, or the socket's path.
  std::string PortEnv() const;
  // What the shared region carries for the proxy workers
  // (WorkerSlot::upstream_port): the port, or the socket's id; 0 for none.
  uint32_t ForRegion() const { return id_; }
  // Whether something accepts connections there right now.
  bool Accepting() const;
  // Whether the copy `pid`, or a process below it, accepts connections
  // there right now. On a port, a listener of another program (which took
  // the port after it was picked) does not count; where /proc cannot tell
  // whose the listener is, any does.
  bool AcceptingFrom(pid_t pid) const;
  // Removes a socket's file (before its copy binds it, after it exits).
  void RemoveSocket() const;
  // For /status: "socket": its path, or "port": the port (0 for none).
  void AddTo(nlohmann::json& entry) const;

 private:
  enum class Kind { kNone, kPort, kSocket };
  Kind kind_ = Kind::kNone;
  uint32_t id_ = 0;
  std::string path_;
};

// A port on 127.0.0.1 for a new copy: free, below the kernel's range for
// outgoing connections (so no connection of ours takes it first), and not
// one of `taken` (the ports of live copies).
absl::StatusOr<uint16_t> FreeLoopbackPort(const std::set<uint16_t>& taken);

}  // namespace corral::command

#endif  // CORRAL_COMMAND_APP_ENDPOINT_H_
