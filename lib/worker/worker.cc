#include "worker/worker.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "http/listener.h"
#include "http/session.h"
#include "log/log.h"
#include "region/shared_region.h"
#include "region/slot_recorder.h"

namespace corral::worker {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::chrono::milliseconds kHeartbeatPeriod{100};

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

// Counts every request into this worker's slot.
class SlotObserver : public http::SessionObserver {
 public:
  explicit SlotObserver(region::SlotRecorder* recorder) : recorder_(recorder) {}
  void OnRequestStart(const http::Request& request) override {
    recorder_->RequestStarted(request.path);
  }
  void OnRequestEnd(const http::Request& request, std::string_view route,
                    int status, int64_t duration_ns) override {
    recorder_->RequestFinished(request.method, route, status, duration_ns);
  }

 private:
  region::SlotRecorder* recorder_;
};

// The snapshot the master validated for this worker's generation, read from
// the sealed copy it inherited (never from the directory, which may have moved
// on to a newer generation since).
absl::StatusOr<config::Config> LoadConfig(const config::ConfigSpec& spec,
                                          const WorkerEnv& env) {
  std::string text;
  char buf[16384];
  for (off_t off = 0;;) {
    ssize_t n = pread(env.config_fd, buf, sizeof(buf), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("reading the config snapshot: ", std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
  auto snapshot = config::SnapshotFromJson(text);
  if (!snapshot.ok()) return snapshot.status();
  auto c = config::Config::Parse(spec, *snapshot);
  if (!c.ok()) return c.status();
  c->generation = env.generation;
  return c;
}

absl::StatusOr<tcp::acceptor> AdoptListener(asio::io_context& io, int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("descriptor ", fd, " is not the listening socket"));
  }
  tcp protocol = addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
  boost::system::error_code ec;
  tcp::acceptor acceptor(io);
  acceptor.assign(protocol, fd, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("adopting the listening socket: ", ec.message()));
  }
  return acceptor;
}

}  // namespace

absl::StatusOr<WorkerEnv> ParseWorkerEnv(
    const std::map<std::string, std::string>& env) {
  WorkerEnv w;
  auto get = [&](const char* name, auto* out) -> absl::Status {
    auto it = env.find(name);
    if (it == env.end() || !absl::SimpleAtoi(it->second, out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("worker environment lacks a valid ", name));
    }
    return absl::OkStatus();
  };
  for (absl::Status s :
       {get(kIndexEnv, &w.index), get(kSlotEnv, &w.slot),
        get(kGenerationEnv, &w.generation), get(kListenFdEnv, &w.listen_fd),
        get(kRegionFdEnv, &w.region_fd), get(kConfigFdEnv, &w.config_fd)}) {
    if (!s.ok()) return s;
  }
  if (auto it = env.find(kConfigHashEnv); it != env.end())
    w.config_hash = it->second;
  return w;
}

int RunWorker(const App& app, const Options& options, const WorkerEnv& env) {
  log::Init("worker", env.index, env.slot);
  log::SetGeneration(env.generation);
  // Terminal signals are the master's to handle; it tells us with SIGTERM.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  auto region = region::SharedRegion::Attach(env.region_fd);
  if (!region.ok()) {
    log::Error("worker cannot map the metrics region",
               {{"error", region.status().ToString()}});
    return 1;
  }
  if (env.slot < 0 || env.slot >= region->slot_count()) {
    log::Error("worker slot out of range", {{"slot", env.slot}});
    return 1;
  }
  region::WorkerSlot& slot = region->slot(env.slot);
  region::SlotRecorder recorder(&slot);
  recorder.Heartbeat();

  asio::io_context io(1);
  auto acceptor = AdoptListener(io, env.listen_fd);
  if (!acceptor.ok()) {
    log::Error("worker cannot use the listening socket",
               {{"error", acceptor.status().ToString()}});
    return 1;
  }

  auto config = LoadConfig(app.config, env);
  if (!config.ok()) {
    log::Error("worker cannot use its config; this worker will not serve",
               {{"error", config.status().ToString()}});
    return kExitStartFailed;
  }
  http::Router router;
  WorkerContext context(io, router, options, *config, env.index);
  if (app.setup) {
    absl::Status s = app.setup(context);
    if (!s.ok()) {
      log::Error("app start-up check failed; this worker will not serve",
                 {{"error", s.ToString()}, {"generation", env.generation}});
      return kExitStartFailed;
    }
  }
  recorder.PublishRoutes(router.Templates(), http::kUnmatchedRoute);

  http::SessionLimits limits;
  limits.max_body_bytes = static_cast<uint64_t>(options.max_body_bytes);
  limits.keepalive_timeout = Millis(options.keepalive_timeout);
  limits.request_timeout = Millis(options.request_timeout);
  limits.server_header = app.name;
  SlotObserver observer(&recorder);
  http::ConnectionSet connections;
  http::Listener listener(io, std::move(*acceptor), router, limits, &observer,
                          &connections);

  // The heartbeat proves the loop still turns; a handler stuck in a CPU loop
  // stops it and the master replaces this worker.
  asio::steady_timer heartbeat(io);
  std::function<void()> beat = [&]() {
    recorder.Heartbeat();
    recorder.SetConnections(connections.size());
    heartbeat.expires_after(kHeartbeatPeriod);
    heartbeat.async_wait([&](boost::system::error_code ec) {
      if (!ec) beat();
    });
  };
  beat();

  bool draining = false;
  auto finish_if_idle = [&]() {
    if (draining && connections.size() == 0) {
      heartbeat.cancel();
      io.stop();
    }
  };
  connections.OnEmpty(finish_if_idle);
  asio::signal_set signals(io, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    draining = true;
    recorder.SetState(region::SlotState::kDraining);
    log::Info("draining: stopped accepting, finishing in-flight requests",
              {{"connections", connections.size()},
               {"in_flight", slot.in_flight.load(std::memory_order_relaxed)}});
    listener.Stop();
    connections.DrainAll();
    finish_if_idle();
  });

  // The workers share one listening socket and whichever wakes first takes
  // a burst of connections: at 1,000 connections one worker held two thirds
  // of them and its clients waited longer. A worker ahead of its least
  // loaded live sibling lets the others accept for a moment.
  listener.SetAcceptGate([&]() {
    const size_t mine = connections.size();
    recorder.SetConnections(mine);  // siblings read it live while we accept
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const int64_t now_ns = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
    uint64_t least = UINT64_MAX;
    for (int i = 0; i < region->slot_count(); ++i) {
      if (i == env.slot) continue;
      const region::WorkerSlot& s = region->slot(i);
      if (s.state.load(std::memory_order_relaxed) !=
          static_cast<uint32_t>(region::SlotState::kReady)) {
        continue;
      }
      // A sibling whose loop has stalled is not one to leave connections to.
      if (now_ns - s.heartbeat_ns.load(std::memory_order_relaxed) >
          5 * kHeartbeatPeriod.count() * 1'000'000LL) {
        continue;
      }
      least = std::min<uint64_t>(
          least, s.connections_open.load(std::memory_order_relaxed));
    }
    return least == UINT64_MAX ||
           mine <= least + std::max<uint64_t>(16, least / 8);
  });
  listener.Start();
  recorder.SetState(region::SlotState::kReady);
  log::Info("worker started serving", {{"config_hash", env.config_hash},
                                       {"routes", router.Templates().size()}});
  io.run();
  log::Info("worker drained, exiting",
            {{"requests_served",
              slot.requests_total.load(std::memory_order_relaxed)}});
  return 0;
}

}  // namespace corral::worker
