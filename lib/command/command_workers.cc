#include "command/command_workers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "command/spawn_command.h"
#include "log/log.h"
#include "pool/worker_env.h"

namespace corral::command {
namespace {

namespace fs = std::filesystem;

// The whole group first: a shell wrapper or an npm script's child gets it
// too.
void SignalGroup(pid_t pid, int sig) {
  if (kill(-pid, sig) != 0) kill(pid, sig);
}

}  // namespace

CommandWorkers::CommandWorkers(boost::asio::io_context& io,
                               CommandSettings settings,
                               region::SharedRegion& region,
                               const clock::Clock& clock,
                               std::function<int(int64_t)> config_fd)
    : io_(io), settings_(std::move(settings)), region_(region), clock_(clock) {
  if (!settings_.state_dir.empty()) {
    config_dirs_.emplace(settings_.state_dir, std::move(config_fd));
  }
  std::random_device random;
  instance_ = absl::StrCat(getpid(), "-", absl::Hex(random(), absl::kZeroPad8));
}

CommandWorkers::~CommandWorkers() {
  for (const std::string& dir : {settings_.state_dir, settings_.socket_dir}) {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
}

absl::StatusOr<pid_t> CommandWorkers::StartWorker(int index, int slot,
                                                  int64_t generation) {
  auto channels = ReadyChannels::Open(
      io_, absl::StrCat("corral/", instance_, "/", slot, "/", ++sockets_made_),
      settings_.ready);
  if (!channels.ok()) return channels.status();
  auto w = std::make_unique<Worker>();
  w->index = index;
  w->slot = slot;
  w->channels = std::move(*channels);

  CommandSpec spec;
  spec.argv = settings_.command;
  spec.env = settings_.env;
  spec.env.push_back(absl::StrCat(pool::kIndexEnv, "=", index));
  spec.env.push_back(
      absl::StrCat(pool::kCommandWorkersEnv, "=", settings_.workers));
  spec.env.push_back(absl::StrCat(pool::kGenerationEnv, "=", generation));
  spec.env.push_back(absl::StrCat(pool::kReadyFdEnv, "=", kReadyPipeFd));
  spec.env.push_back(
      absl::StrCat("NOTIFY_SOCKET=", w->channels->notify_address()));
  spec.env.push_back(absl::StrCat(
      "WATCHDOG_USEC=", absl::ToInt64Microseconds(settings_.watchdog)));
  if (config_dirs_) {
    absl::StatusOr<std::string> dir = config_dirs_->For(generation);
    if (!dir.ok()) return dir.status();
    spec.env.push_back(absl::StrCat(pool::kCommandConfigDirEnv, "=", *dir));
  }
  spec.pid_vars = {"WATCHDOG_PID"};
  spec.fds = {{w->channels->pipe_write_fd(), kReadyPipeFd}};
  absl::StatusOr<AppEndpoint> endpoint = NewEndpoint();
  if (!endpoint.ok()) return endpoint.status();
  w->endpoint = *endpoint;
  if (!w->endpoint.none()) {
    // Proxy mode: the copy listens where $PORT says.
    w->endpoint.RemoveSocket();
    spec.env.push_back(
        absl::StrCat(pool::kPortEnv, "=", w->endpoint.PortEnv()));
  } else {
    // The systemd socket-activation protocol: the listener is fd 3.
    spec.env.push_back("LISTEN_FDS=1");
    spec.env.push_back("LISTEN_FDNAMES=http");
    spec.pid_vars.push_back("LISTEN_PID");
    spec.fds.insert(spec.fds.begin(), {settings_.listen_fd, kListenFd});
  }
  spec.die_with_parent = true;
  absl::StatusOr<pid_t> pid = SpawnCommand(spec);
  w->channels->ClosePipeWriteEnd();
  if (!pid.ok()) return pid.status();
  w->spawned_ns = clock_.Now();
  Worker& started = *w;
  workers_[*pid] = std::move(w);
  started.channels->Start(HandlersFor(*pid));
  return *pid;
}

absl::StatusOr<AppEndpoint> CommandWorkers::NewEndpoint() {
  if (!settings_.proxied) return AppEndpoint();
  if (!settings_.socket_dir.empty()) {
    return AppEndpoint::Socket(settings_.socket_dir,
                               static_cast<uint32_t>(sockets_made_));
  }
  std::set<uint16_t> taken;
  for (const auto& [pid, w] : workers_) taken.insert(w->endpoint.port());
  absl::StatusOr<uint16_t> port = FreeLoopbackPort(taken);
  if (!port.ok()) return port.status();
  return AppEndpoint::Port(*port);
}

ReadyChannels::Handlers CommandWorkers::HandlersFor(pid_t pid) {
  // Each looks its worker up: the channels go with the worker, and a
  // handler already queued may find it gone.
  auto with = [this, pid](auto f) {
    return [this, pid, f](auto&&... args) {
      auto it = workers_.find(pid);
      if (it != workers_.end()) f(*it->second, args...);
    };
  };
  ReadyChannels::Handlers h;
  h.ready = with(
      [this, pid](Worker& w, std::string_view how) { MarkReady(pid, w, how); });
  h.watchdog = with([this, pid](Worker& w) {
    if (!w.watchdog) {
      log::Info(
          "worker keeps a watchdog; it is hung when silent for "
          "--worker-timeout",
          {{"worker", w.index}, {"worker_pid", pid}});
    }
    w.watchdog = true;
    region_.slot(w.slot).heartbeat_ns.store(clock_.Now(),
                                            std::memory_order_relaxed);
  });
  h.status = with([](Worker& w, const std::string& status) {
    w.status = status;
    log::Debug("worker status", {{"worker", w.index}, {"status", w.status}});
  });
  h.stopping = with([pid](Worker& w) {
    log::Info("worker says it is stopping",
              {{"worker", w.index}, {"worker_pid", pid}});
  });
  return h;
}

void CommandWorkers::Signal(pid_t pid, int signal) {
  auto it = workers_.find(pid);
  if (settings_.proxied && signal == SIGTERM && it != workers_.end()) {
    StopWhenIdle(pid, *it->second);
    return;
  }
  SignalGroup(pid, signal == SIGTERM ? settings_.stop_signal : signal);
}

void CommandWorkers::SendStopSignal(pid_t pid) {
  SignalGroup(pid, settings_.stop_signal);
}

bool CommandWorkers::StoppedCleanly(int status) const {
  if (WIFSIGNALED(status)) return WTERMSIG(status) == settings_.stop_signal;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void CommandWorkers::StopWhenIdle(pid_t pid, Worker& w) {
  const bool first = !w.stop_pending;
  if (first) {
    w.stop_pending = true;
    // Draining first, the counts after: a proxy worker counts first and
    // checks the state after, so a request is either refused here or seen.
    region_.slot(w.slot).state.store(
        static_cast<uint32_t>(region::SlotState::kDraining),
        std::memory_order_seq_cst);
  }
  const int64_t in_flight =
      region::UpstreamInFlight(region_, settings_.proxies, w.slot);
  if (first) {
    log::Info(
        "app process takes no new requests; it is stopped once those "
        "in flight are answered",
        {{"worker", w.index}, {"worker_pid", pid}, {"in_flight", in_flight}});
  }
  if (in_flight > 0) return;
  w.stop_pending = false;
  SignalGroup(pid, settings_.stop_signal);
}

void CommandWorkers::MarkReady(pid_t pid, Worker& w, std::string_view how) {
  if (w.ready) return;
  w.ready = true;
  region::WorkerSlot& slot = region_.slot(w.slot);
  slot.heartbeat_ns.store(clock_.Now(), std::memory_order_relaxed);
  slot.upstream_port.store(w.endpoint.ForRegion(), std::memory_order_release);
  slot.state.store(static_cast<uint32_t>(region::SlotState::kReady),
                   std::memory_order_release);
  log::Debug("worker reported ready",
             {{"worker", w.index}, {"worker_pid", pid}, {"how", how}});
}

void CommandWorkers::Tick() {
  const int64_t now = clock_.Now();
  for (auto& [pid, w] : workers_) {
    region::WorkerSlot& slot = region_.slot(w->slot);
    if (!w->watchdog) slot.heartbeat_ns.store(now, std::memory_order_relaxed);
    if (settings_.ready == Readiness::kAlive && !w->ready &&
        now - w->spawned_ns >=
            absl::ToInt64Nanoseconds(settings_.ready_after)) {
      MarkReady(pid, *w, "alive for --ready-after");
    }
    if (settings_.ready == Readiness::kPort && !w->ready &&
        w->endpoint.AcceptingFrom(pid)) {
      MarkReady(pid, *w, "accepts connections on its $PORT");
    }
    if (w->stop_pending) StopWhenIdle(pid, *w);
  }
}

void CommandWorkers::Forget(pid_t pid) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  it->second->endpoint.RemoveSocket();
  workers_.erase(it);
}

void CommandWorkers::PruneConfigDirs(const std::set<int64_t>& in_use) {
  if (config_dirs_) config_dirs_->Prune(in_use);
}

nlohmann::json CommandWorkers::StatusJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [pid, w] : workers_) {
    nlohmann::json entry = {{"pid", pid}, {"worker", w->index}};
    w->endpoint.AddTo(entry);
    entry["ready"] = w->ready;
    entry["watchdog"] = w->watchdog;
    entry["status"] = w->status;
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace corral::command
