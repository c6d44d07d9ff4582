#include "command/command_workers.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "command/snapshot_dir.h"
#include "command/spawn_command.h"
#include "config/config.h"
#include "config/config_dir.h"
#include "log/log.h"
#include "pool/worker_env.h"

namespace corral::command {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Datagram = asio::local::datagram_protocol;

// A datagram socket in the abstract namespace: nothing on the filesystem, so
// it works on a read-only root. Returns the descriptor, and the address as
// NOTIFY_SOCKET spells it ("@name").
absl::StatusOr<std::pair<int, std::string>> NotifySocket(
    const std::string& name) {
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
  return std::make_pair(fd, "@" + name);
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Whether something accepts connections at `addr` right now.
bool Accepting(const sockaddr* addr, socklen_t len) {
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

// On 127.0.0.1:port.
bool Accepting(uint16_t port) {
  sockaddr_in addr = Loopback(port);
  return Accepting(reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

// On the unix socket at path.
bool Accepting(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  return Accepting(reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

bool CanBind(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Loopback(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// The whole group first: a shell wrapper or an npm script's child gets it
// too.
void SignalGroup(pid_t pid, int sig) {
  if (kill(-pid, sig) != 0) kill(pid, sig);
}

int EphemeralPortsStart() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (in >> low && low > 2048) return low;
  return 32768;
}

}  // namespace

std::string DescribeReadiness(const CommandSettings& s) {
  switch (s.ready) {
    case Readiness::kNotify:
      return "when it sends READY=1 on $NOTIFY_SOCKET";
    case Readiness::kPipe:
      return "when it writes a line to descriptor $CORRAL_READY_FD";
    case Readiness::kPort:
      return s.socket_dir.empty()
                 ? "when it accepts connections on 127.0.0.1:$PORT"
                 : "when it accepts connections on its unix socket $PORT";
    case Readiness::kAlive:
    case Readiness::kAuto:
      break;
  }
  return absl::StrCat("once alive for ", absl::FormatDuration(s.ready_after),
                      " (or when it says READY=1 or writes to "
                      "$CORRAL_READY_FD first)");
}

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

CommandWorkers::CommandWorkers(asio::io_context& io, CommandSettings settings,
                               region::SharedRegion& region,
                               const clock::Clock& clock,
                               std::function<int(int64_t)> config_fd)
    : io_(io),
      settings_(std::move(settings)),
      region_(region),
      clock_(clock),
      config_fd_(std::move(config_fd)) {}

CommandWorkers::~CommandWorkers() {
  for (const std::string& dir : {settings_.state_dir, settings_.socket_dir}) {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
}

absl::StatusOr<pid_t> CommandWorkers::StartWorker(int index, int slot,
                                                  int64_t generation) {
  auto notify = NotifySocket(
      absl::StrCat("corral/", getpid(), "/", slot, "/", ++sockets_made_));
  if (!notify.ok()) return notify.status();
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    close(notify->first);
    return absl::ResourceExhaustedError(
        absl::StrCat("ready pipe: ", std::strerror(errno)));
  }
  auto w = std::make_unique<Worker>();
  w->index = index;
  w->slot = slot;
  w->notify = std::make_unique<Datagram::socket>(io_);
  w->notify->assign(Datagram(), notify->first);
  w->ready_pipe = std::make_unique<asio::posix::stream_descriptor>(io_);
  w->ready_pipe->assign(pipe_fds[0]);

  CommandSpec spec;
  spec.argv = settings_.command;
  spec.env = settings_.env;
  spec.env.push_back(absl::StrCat("CORRAL_WORKER=", index));
  spec.env.push_back(
      absl::StrCat(pool::kCommandWorkersEnv, "=", settings_.workers));
  spec.env.push_back(absl::StrCat("CORRAL_CONFIG_GENERATION=", generation));
  spec.env.push_back(absl::StrCat(pool::kReadyFdEnv, "=", kReadyPipeFd));
  spec.env.push_back(absl::StrCat("NOTIFY_SOCKET=", notify->second));
  spec.env.push_back(absl::StrCat(
      "WATCHDOG_USEC=", absl::ToInt64Microseconds(settings_.watchdog)));
  if (!settings_.state_dir.empty()) {
    absl::StatusOr<std::string> dir = ConfigDir(generation);
    if (!dir.ok()) {
      close(pipe_fds[1]);
      return dir.status();
    }
    spec.env.push_back(absl::StrCat(pool::kCommandConfigDirEnv, "=", *dir));
  }
  spec.pid_vars = {"WATCHDOG_PID"};
  if (settings_.proxied && !settings_.socket_dir.empty()) {
    // Its own name: a socket left by an earlier process never answers for it.
    w->port = static_cast<uint32_t>(sockets_made_);
    std::string path = SocketOf(*w);
    ::unlink(path.c_str());
    spec.env.push_back(absl::StrCat(pool::kPortEnv, "=", path));
    spec.fds = {{pipe_fds[1], kReadyPipeFd}};
  } else if (settings_.proxied) {
    absl::StatusOr<uint16_t> port = FreePort();
    if (!port.ok()) {
      close(pipe_fds[1]);
      return port.status();
    }
    w->port = *port;
    spec.env.push_back(absl::StrCat(pool::kPortEnv, "=", *port));
    spec.fds = {{pipe_fds[1], kReadyPipeFd}};
  } else {
    spec.env.push_back("LISTEN_FDS=1");
    spec.env.push_back("LISTEN_FDNAMES=http");
    spec.pid_vars.push_back("LISTEN_PID");
    spec.fds = {{settings_.listen_fd, kListenFd}, {pipe_fds[1], kReadyPipeFd}};
  }
  spec.die_with_parent = true;
  absl::StatusOr<pid_t> pid = SpawnCommand(spec);
  close(pipe_fds[1]);
  if (!pid.ok()) return pid.status();
  w->spawned_ns = clock_.Now();
  workers_[*pid] = std::move(w);
  ReceiveNotify(*pid);
  ReadPipe(*pid);
  return *pid;
}

void CommandWorkers::Signal(pid_t pid, int signal) {
  auto it = workers_.find(pid);
  if (settings_.proxied && signal == SIGTERM && it != workers_.end()) {
    StopWhenIdle(pid, *it->second);
    return;
  }
  SignalGroup(pid, signal == SIGTERM ? settings_.stop_signal : signal);
}

bool CommandWorkers::StoppedCleanly(int status) const {
  if (WIFSIGNALED(status)) return WTERMSIG(status) == settings_.stop_signal;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void CommandWorkers::ReceiveNotify(pid_t pid) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  Worker& w = *it->second;
  w.notify->async_receive(
      asio::buffer(w.datagram),
      [this, pid](boost::system::error_code ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        auto it = workers_.find(pid);
        if (it == workers_.end()) return;
        if (!ec) {
          OnNotify(pid, std::string_view(it->second->datagram.data(), n));
        }
        ReceiveNotify(pid);
      });
}

void CommandWorkers::ReadPipe(pid_t pid) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  Worker& w = *it->second;
  w.ready_pipe->async_read_some(
      asio::buffer(w.pipe_read),
      [this, pid](boost::system::error_code ec, size_t n) {
        if (ec) return;  // EOF: the worker closed it, or exited
        auto it = workers_.find(pid);
        if (it == workers_.end()) return;
        Worker& w = *it->second;
        w.pipe_buffer.append(w.pipe_read.data(), n);
        if (w.pipe_buffer.find('\n') != std::string::npos) {
          if (settings_.ready != Readiness::kNotify) {
            MarkReady(pid, w, "a line on the ready pipe");
          }
          w.pipe_buffer.clear();
        } else if (w.pipe_buffer.size() > 4096) {
          w.pipe_buffer.clear();
        }
        ReadPipe(pid);
      });
}

void CommandWorkers::OnNotify(pid_t pid, std::string_view message) {
  Worker& w = *workers_.at(pid);
  std::map<std::string, std::string> fields = ParseNotify(message);
  region::WorkerSlot& slot = region_.slot(w.slot);
  if (fields.count("WATCHDOG") && fields["WATCHDOG"] == "1") {
    if (!w.watchdog) {
      log::Info(
          "worker keeps a watchdog; it is hung when silent for "
          "--worker-timeout",
          {{"worker", w.index}, {"worker_pid", pid}});
    }
    w.watchdog = true;
    slot.heartbeat_ns.store(clock_.Now(), std::memory_order_relaxed);
  }
  if (auto s = fields.find("STATUS"); s != fields.end()) {
    w.status = s->second;
    log::Debug("worker status", {{"worker", w.index}, {"status", w.status}});
  }
  if (fields.count("READY") && fields["READY"] == "1" &&
      settings_.ready != Readiness::kPipe) {
    MarkReady(pid, w, "READY=1");
  }
  if (fields.count("STOPPING") && fields["STOPPING"] == "1") {
    log::Info("worker says it is stopping",
              {{"worker", w.index}, {"worker_pid", pid}});
  }
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

std::string CommandWorkers::SocketOf(const Worker& w) const {
  if (settings_.socket_dir.empty() || w.port == 0) return {};
  return pool::AppSocketPath(settings_.socket_dir, w.port);
}

absl::StatusOr<uint16_t> CommandWorkers::FreePort() const {
  for (int port = EphemeralPortsStart() - 1; port > 1024; --port) {
    bool taken = false;
    for (const auto& [pid, w] : workers_) {
      taken = taken || w->port == static_cast<uint32_t>(port);
    }
    if (!taken && CanBind(static_cast<uint16_t>(port))) {
      return static_cast<uint16_t>(port);
    }
  }
  return absl::ResourceExhaustedError(
      "no free port on 127.0.0.1 for an app process");
}

void CommandWorkers::MarkReady(pid_t pid, Worker& w, std::string_view how) {
  if (w.ready) return;
  w.ready = true;
  region::WorkerSlot& slot = region_.slot(w.slot);
  slot.heartbeat_ns.store(clock_.Now(), std::memory_order_relaxed);
  slot.upstream_port.store(w.port, std::memory_order_release);
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
    if (settings_.ready == Readiness::kPort && !w->ready && w->port != 0 &&
        (settings_.socket_dir.empty()
             ? Accepting(static_cast<uint16_t>(w->port))
             : Accepting(SocketOf(*w)))) {
      MarkReady(pid, *w, "accepts connections on its $PORT");
    }
    if (w->stop_pending) StopWhenIdle(pid, *w);
  }
}

void CommandWorkers::Forget(pid_t pid) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return;
  if (std::string path = SocketOf(*it->second); !path.empty()) {
    ::unlink(path.c_str());
  }
  workers_.erase(it);
}

absl::StatusOr<std::string> CommandWorkers::ConfigDir(int64_t generation) {
  std::string dir = absl::StrCat(settings_.state_dir, "/config-", generation);
  if (config_dirs_.count(generation)) return dir;
  auto snapshot =
      config::ReadSealedSnapshot(config_fd_ ? config_fd_(generation) : -1);
  if (!snapshot.ok()) return snapshot.status();
  if (absl::Status s = WriteSnapshotDir(*snapshot, dir); !s.ok()) return s;
  config_dirs_.insert(generation);
  return dir;
}

void CommandWorkers::PruneConfigDirs(const std::set<int64_t>& in_use) {
  for (auto it = config_dirs_.begin(); it != config_dirs_.end();) {
    if (in_use.count(*it)) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(absl::StrCat(settings_.state_dir, "/config-", *it), ec);
    it = config_dirs_.erase(it);
  }
}

nlohmann::json CommandWorkers::StatusJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [pid, w] : workers_) {
    nlohmann::json entry = {{"pid", pid}, {"worker", w->index}};
    if (std::string path = SocketOf(*w); !path.empty()) {
      entry["socket"] = path;
    } else {
      entry["port"] = w->port;
    }
    entry["ready"] = w->ready;
    entry["watchdog"] = w->watchdog;
    entry["status"] = w->status;
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace corral::command
