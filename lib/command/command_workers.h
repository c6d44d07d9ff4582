// The runtime shape of `corral --listen=ADDR -- CMD`: each worker is a copy
// of CMD, handed the listening socket as fd 3 through the systemd
// socket-activation protocol. corral cannot see inside such a worker, so it
// writes the worker's slot itself: ready when the worker says so the way
// --ready names (READY=1 on its NOTIFY_SOCKET, or a line on its ready pipe),
// or, with --ready=alive, when it has been alive for --ready-after (or said
// either first); a heartbeat on every WATCHDOG=1 once the worker sends them,
// on every tick until then.
#ifndef CORRAL_COMMAND_COMMAND_WORKERS_H_
#define CORRAL_COMMAND_COMMAND_WORKERS_H_

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clock/clock.h"
#include "command/app_endpoint.h"
#include "command/readiness.h"
#include "command/snapshot_dir.h"
#include "options/options.h"
#include "pool/pool.h"
#include "region/shared_region.h"

namespace corral::command {

// The descriptors a command worker gets.
inline constexpr int kListenFd = 3;     // SD_LISTEN_FDS_START
inline constexpr int kReadyPipeFd = 4;  // named by CORRAL_READY_FD

struct CommandSettings {
  std::vector<std::string> command;
  // The environment every worker starts with (pool::InheritedEnv), before
  // the variables corral sets for it.
  std::vector<std::string> env;
  int listen_fd = -1;
  int workers = 1;
  int stop_signal = SIGTERM;
  Readiness ready = Readiness::kAlive;  // never kAuto
  absl::Duration ready_after = absl::Seconds(1);
  // WATCHDOG_USEC: a worker that sent WATCHDOG=1 and then stays silent this
  // long is hung (the supervisor's --worker-timeout).
  absl::Duration watchdog = absl::Seconds(30);
  // Where config snapshots are written for workers to read; empty when no
  // --config-dir is used.
  std::string state_dir;
  // Proxy mode: each worker listens on 127.0.0.1:$PORT instead of taking
  // the listening socket, and corral's proxy workers (these slots) send it
  // requests. Asked to stop, it first gets no new requests; the stop
  // signal follows once the last one in flight is answered.
  bool proxied = false;
  region::SlotRange proxies;
  // Proxy mode with --app-socket-dir: a directory of this master's own
  // (removed with it) where each worker listens on a unix socket, its path
  // in $PORT, instead of a port on 127.0.0.1.
  std::string socket_dir;
};

class CommandWorkers : public pool::ProcessControl {
 public:
  // `config_fd` gives the sealed snapshot of a config generation (-1 when
  // there is none).
  CommandWorkers(boost::asio::io_context& io, CommandSettings settings,
                 region::SharedRegion& region, const clock::Clock& clock,
                 std::function<int(int64_t generation)> config_fd);
  ~CommandWorkers() override;

  absl::StatusOr<pid_t> StartWorker(int index, int slot,
                                    int64_t generation) override;
  // SIGTERM becomes --stop-signal; both go to the worker's process group.
  void Signal(pid_t pid, int signal) override;
  void SendStopSignal(pid_t pid) override;
  bool StoppedCleanly(int status) const override;

  // Heartbeats for workers without a watchdog, --ready-after, the port
  // probe, and stop signals held back until requests in flight are done.
  void Tick();
  // The worker exited: close its sockets, remove its unix socket.
  void Forget(pid_t pid);
  // Removes the snapshot directories of generations no worker uses.
  void PruneConfigDirs(const std::set<int64_t>& in_use);
  // Proxy mode with --app-socket-dir: where the app processes' sockets are.
  const std::string& socket_dir() const { return settings_.socket_dir; }
  // The pool's new size (the pod's CPUs changed): what copies started from
  // now on read in $CORRAL_WORKERS.
  void set_workers(int workers) { settings_.workers = workers; }
  // Per worker: pid, the last STATUS= text, whether it has a watchdog.
  nlohmann::json StatusJson() const;

 private:
  struct Worker {
    int index = 0;
    int slot = 0;
    int64_t spawned_ns = 0;
    bool ready = false;
    bool watchdog = false;
    std::string status;
    // Proxy mode: where it listens; none when it takes the listening socket.
    AppEndpoint endpoint;
    bool stop_pending = false;  // proxy mode: stop once nothing is in flight
    std::unique_ptr<ReadyChannels> channels;
  };

  // Where a new copy listens: none, a free port, or a new unix socket.
  absl::StatusOr<AppEndpoint> NewEndpoint();
  ReadyChannels::Handlers HandlersFor(pid_t pid);
  void MarkReady(pid_t pid, Worker& w, std::string_view how);
  void StopWhenIdle(pid_t pid, Worker& w);

  boost::asio::io_context& io_;
  CommandSettings settings_;
  region::SharedRegion& region_;
  const clock::Clock& clock_;
  std::optional<SnapshotDirs> config_dirs_;  // with --config-dir
  std::map<pid_t, std::unique_ptr<Worker>> workers_;
  uint64_t sockets_made_ = 0;
  // Makes this master's notify sockets' names its own. Abstract socket
  // names are per network namespace, not pid namespace: two masters that
  // are both PID 1 (two containers of one pod) would otherwise collide.
  std::string instance_;
};

}  // namespace corral::command

#endif  // CORRAL_COMMAND_COMMAND_WORKERS_H_
