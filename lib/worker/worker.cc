#include "worker/worker.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clock/clock.h"
#include "config/config_dir.h"
#include "http/drain_pace.h"
#include "http/listener.h"
#include "http/session.h"
#include "log/log.h"
#include "region/shared_region.h"
#include "region/slot_recorder.h"
#include "worker/lag_gate.h"

namespace corral::worker {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::chrono::milliseconds kHeartbeatPeriod{100};

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

// Counts every request into this worker's slot, and logs it with
// --access-log.
class SlotObserver : public http::SessionObserver {
 public:
  SlotObserver(region::SlotRecorder* recorder, bool access_log,
               bool recycle_past_deadline)
      : recorder_(recorder),
        access_log_(access_log),
        recycle_past_deadline_(recycle_past_deadline) {}
  void OnRequestStart(const http::Request& request) override {
    recorder_->RequestStarted(request.path);
  }
  void OnRequestPastDeadline(const http::Request&) override {
    recorder_->RequestPastDeadline(recycle_past_deadline_);
  }
  void OnRequestEnd(const http::Request& request, std::string_view route,
                    int status, int64_t duration_ns) override {
    recorder_->RequestFinished(request.method, route, status, duration_ns);
    if (access_log_) {
      log::Info("request", {{"method", request.method},
                            {"path", request.path},
                            {"route", route},
                            {"status", status},
                            {"duration_seconds", duration_ns / 1e9}});
    }
  }

 private:
  region::SlotRecorder* recorder_;
  bool access_log_;
  // An app's worker, stuck on a request, is recycled; a proxy worker only
  // forwarded it (the app process behind it is the one stuck).
  bool recycle_past_deadline_;
};

// The snapshot the master validated for this worker's generation, read from
// the sealed copy it inherited (never from the directory, which may have moved
// on to a newer generation since).
absl::StatusOr<config::Config> LoadConfig(const config::ConfigSpec& spec,
                                          const pool::WorkerEnv& env) {
  auto snapshot = config::ReadSealedSnapshot(env.config_fd);
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

namespace {

// The worker cycle, read top to bottom in Run(): serve the inherited socket
// until the master says drain (SIGTERM), then finish what is in flight and
// exit. Bootstrap does everything that can fail before the slot says ready.
class Worker {
 public:
  Worker(const App& app, const Options& options, const pool::WorkerEnv& env)
      : app_(app),
        options_(options),
        env_(env),
        heartbeat_(io_),
        signals_(io_, SIGTERM) {}

  // Returns the exit code to leave with, or nothing when ready to serve.
  std::optional<int> Bootstrap();
  int Run();

 private:
  void OnHeartbeat();
  void OnDrain();
  void StopIfIdle();
  bool MayAccept();

  const App& app_;
  const Options& options_;
  const pool::WorkerEnv& env_;
  asio::io_context io_{1};
  std::optional<region::SharedRegion> region_;
  region::WorkerSlot* slot_ = nullptr;
  std::optional<region::SlotRecorder> recorder_;
  std::optional<SlotObserver> observer_;
  std::optional<config::Config> config_;
  http::Router router_;
  http::SessionLimits limits_;
  http::ConnectionSet connections_;
  std::optional<http::Listener> listener_;
  std::optional<LagGate> lag_gate_;  // --shed-on-lag
  asio::steady_timer heartbeat_;
  asio::signal_set signals_;
  bool draining_ = false;
  size_t descriptor_limit_ = SIZE_MAX;
  size_t descriptor_reserve_ = 0;
};

int Worker::Run() {
  connections_.OnEmpty([this]() { StopIfIdle(); });
  signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) OnDrain();
  });
  OnHeartbeat();
  listener_->SetAcceptGate([this]() { return MayAccept(); });
  listener_->Start();
  if (lag_gate_) lag_gate_->Start();
  recorder_->SetState(region::SlotState::kReady);
  log::Info("worker started serving", {{"config_hash", env_.config_hash},
                                       {"routes", router_.Templates().size()}});
  io_.run();
  log::Info("worker drained, exiting",
            {{"requests_served",
              slot_->requests_total.load(std::memory_order_relaxed)}});
  return 0;
}

// The heartbeat proves the loop still turns; a handler stuck in a CPU loop
// stops it and the master replaces this worker.
void Worker::OnHeartbeat() {
  recorder_->Heartbeat();
  // A draining worker accepts no more, so the count is kept here too: the
  // master's roll waits on it (Supervisor::RollStepClosing).
  recorder_->SetConnections(connections_.size());
  recorder_->SetConnections(connections_.size());
  heartbeat_.expires_after(kHeartbeatPeriod);
  heartbeat_.async_wait([this](boost::system::error_code ec) {
    if (!ec) OnHeartbeat();
  });
}

void Worker::OnDrain() {
  draining_ = true;
  recorder_->SetState(region::SlotState::kDraining);
  // What the kernel already queued is served: once every worker and the
  // master have closed the socket, a queued connection would be reset.
  const size_t queued = listener_->TakeQueued();
  listener_->Stop();
  // Connections are told to close a share at a time, so that their clients
  // do not all reconnect to the siblings in the same moment.
  const std::chrono::milliseconds spread = http::DrainSpread(
      connections_.size(), absl::ToChronoMilliseconds(options_.drain_timeout));
  log::Info("draining: stopped accepting, finishing in-flight requests",
            {{"connections", connections_.size()},
             {"taken_from_queue", queued},
             {"in_flight", slot_->in_flight.load(std::memory_order_relaxed)},
             {"close_spread_seconds", spread.count() / 1000.0}});
  connections_.DrainAll(spread);
  StopIfIdle();
}

// The workers share one listening socket and whichever wakes first takes a
// burst of connections: at 1,000 connections one worker held two thirds of
// them and its clients waited longer. A worker more than max(16, 1/8) ahead
// of its least loaded live sibling lets the others accept for a moment. At
// its descriptor limit, less a reserve, a worker accepts no more at all.
bool Worker::MayAccept() {
  const size_t mine = connections_.size();
  // Descriptors are finite: a worker keeps some back for the rest of its
  // work (a proxy's upstream connections, the app's own files) and leaves
  // further connections in the kernel's queue for a sibling, or for later.
  if (mine + descriptor_reserve_ >= descriptor_limit_) {
    log::Warn(
        "at the descriptor limit; new connections wait in the kernel's "
        "queue for a sibling or for this worker",
        {{"connections", mine},
         {"descriptor_limit", descriptor_limit_},
         {"kept_in_reserve", descriptor_reserve_}});
    return false;
  }
  recorder_->SetConnections(mine);  // siblings read it live while we accept
  const int64_t now_ns = clock::MonotonicNanos();
  uint64_t least = UINT64_MAX;
  int first = env_.siblings_first;
  int end = env_.siblings_count > 0 ? first + env_.siblings_count
                                    : region_->slot_count();
  for (int i = first; i < end && i < region_->slot_count(); ++i) {
    if (i == env_.slot) continue;
    const region::WorkerSlot& s = region_->slot(i);
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
}

void Worker::StopIfIdle() {
  if (!draining_ || connections_.size() != 0) return;
  heartbeat_.cancel();
  if (lag_gate_) lag_gate_->Stop();
  io_.stop();
}

std::optional<int> Worker::Bootstrap() {
  auto region = region::SharedRegion::Attach(env_.region_fd);
  if (!region.ok()) {
    log::Error("worker cannot map the metrics region",
               {{"error", region.status().ToString()}});
    return 1;
  }
  region_.emplace(std::move(*region));
  if (env_.slot < 0 || env_.slot >= region_->slot_count()) {
    log::Error("worker slot out of range", {{"slot", env_.slot}});
    return 1;
  }
  slot_ = &region_->slot(env_.slot);
  recorder_.emplace(slot_);
  recorder_->Heartbeat();

  auto acceptor = AdoptListener(io_, env_.listen_fd);
  if (!acceptor.ok()) {
    log::Error("worker cannot use the listening socket",
               {{"error", acceptor.status().ToString()}});
    return 1;
  }
  auto config = LoadConfig(app_.config, env_);
  if (!config.ok()) {
    log::Error("worker cannot use its config; this worker will not serve",
               {{"error", config.status().ToString()}});
    return kExitStartFailed;
  }
  config_.emplace(std::move(*config));
  WorkerContext context(io_, router_, options_, *config_, env_.index);
  absl::Status setup = app_.setup ? app_.setup(context) : absl::OkStatus();
  if (setup.ok()) setup = router_.status();
  if (!setup.ok()) {
    log::Error("app start-up check failed; this worker will not serve",
               {{"error", setup.ToString()}, {"generation", env_.generation}});
    return kExitStartFailed;
  }
  recorder_->PublishRoutes(router_.Templates(), router_.unmatched_label());

  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 &&
                      files.rlim_cur != RLIM_INFINITY) {
    descriptor_limit_ = files.rlim_cur;
    // An eighth: at 20,000 descriptors a proxy worker keeps 2,500 for its
    // upstream connections (256 per app process at most).
    descriptor_reserve_ = std::max<size_t>(64, descriptor_limit_ / 8);
  }
  limits_.max_body_bytes = static_cast<uint64_t>(options_.max_body_bytes);
  limits_.keepalive_timeout = Millis(options_.keepalive_timeout);
  limits_.request_timeout = Millis(options_.request_timeout);
  limits_.request_deadline = Millis(options_.request_deadline);
  limits_.server_header = app_.name;
  // A proxy worker's requests are forwarded, and its queue sheds them.
  const bool app_worker = std::getenv(pool::kProxyAppSlotsEnv) == nullptr;
  if (options_.shed_on_lag && app_worker) {
    auto rules = overload::PriorityRules::Parse(options_.priority);
    if (!rules.ok()) {
      log::Error("worker cannot use --priority",
                 {{"error", rules.status().ToString()}});
      return 1;
    }
    lag_gate_.emplace(io_, *slot_, std::move(*rules),
                      absl::ToChronoNanoseconds(options_.queue_target),
                      absl::ToChronoNanoseconds(options_.queue_interval));
    limits_.gate = &*lag_gate_;
  }
  observer_.emplace(&*recorder_, options_.access_log, app_worker);
  listener_.emplace(io_, std::move(*acceptor), router_, limits_, &*observer_,
                    &connections_);
  return std::nullopt;
}

// A worker that dies anyway says why before the abort, which the master
// logs as SIGABRT: an exception that escaped every handler's edge (the
// session catches what parsers and handlers raise) ends here.
[[noreturn]] void LogUncaughtAndAbort() {
  std::string what = "std::terminate called without an exception";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
      what = "an exception that is not a std::exception";
    }
  }
  log::Error("worker terminating: uncaught exception", {{"error", what}});
  std::abort();
}

}  // namespace

int RunWorker(const App& app, const Options& options,
              const pool::WorkerEnv& env) {
  log::Init("worker", env.index, env.slot);
  log::SetGeneration(env.generation);
  std::set_terminate(LogUncaughtAndAbort);
  // Terminal signals are the master's to handle; it tells us with SIGTERM.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  Worker worker(app, options, env);
  if (std::optional<int> code = worker.Bootstrap()) return *code;
  return worker.Run();
}

}  // namespace corral::worker
