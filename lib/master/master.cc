#include "master/master.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/admin_server.h"
#include "clock/clock.h"
#include "command/command_workers.h"
#include "command/config_check.h"
#include "config/config_dir.h"
#include "config/config_watcher.h"
#include "cpu/cpu_count.h"
#include "log/log.h"
#include "master/config_generations.h"
#include "master/spawn.h"
#include "master/supervisor.h"
#include "metrics/collector.h"
#include "pid1/pid1.h"
#include "pool/worker_env.h"
#include "region/shared_region.h"

namespace corral::master {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::chrono::milliseconds kTick{50};

int Somaxconn() {
  std::ifstream in("/proc/sys/net/core/somaxconn");
  int n = 0;
  if (in >> n && n > 0) return n;
  return SOMAXCONN;
}

absl::StatusOr<tcp::acceptor> Bind(asio::io_context& io, const Endpoint& e,
                                   int backlog) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(e.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", e.host, "\" is not an IP address"));
  }
  tcp::endpoint endpoint(address, e.port);
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", FormatEndpoint(e), ": ", ec.message()));
  }
  return acceptor;
}

// The real ProcessControl: fork+exec of our own binary.
class Processes : public ProcessControl {
 public:
  Processes(std::vector<std::string> argv, int listen_fd, int region_fd,
            const ConfigGenerations& configs,
            std::vector<std::string> extra_env = {})
      : configs_(configs),
        exe_(SelfExePath()),
        argv_(std::move(argv)),
        listen_fd_(listen_fd),
        region_fd_(region_fd) {
    base_env_ =
        pool::InheritedEnv(CurrentEnvironment(), pool::WorkerKind::kSelf);
    for (std::string& kv : extra_env) base_env_.push_back(std::move(kv));
  }

  absl::StatusOr<pid_t> StartWorker(int index, int slot,
                                    int64_t generation) override {
    SpawnRequest r;
    r.exe = exe_;
    r.argv = argv_;
    r.env = base_env_;
    r.env.push_back(absl::StrCat(pool::kRoleEnv, "=worker"));
    r.env.push_back(absl::StrCat(pool::kIndexEnv, "=", index));
    r.env.push_back(absl::StrCat(pool::kSlotEnv, "=", slot));
    r.env.push_back(absl::StrCat(pool::kGenerationEnv, "=", generation));
    r.env.push_back(absl::StrCat(pool::kListenFdEnv, "=", kListenFd));
    r.env.push_back(absl::StrCat(pool::kRegionFdEnv, "=", kRegionFd));
    r.env.push_back(absl::StrCat(pool::kConfigFdEnv, "=", kConfigFd));
    r.env.push_back(
        absl::StrCat(pool::kConfigHashEnv, "=", configs_.HashFor(generation)));
    r.listen_fd = listen_fd_;
    r.region_fd = region_fd_;
    r.config_fd = configs_.FdFor(generation);
    if (r.config_fd < 0) {
      return absl::InternalError(
          absl::StrCat("no config snapshot for generation ", generation));
    }
    return Spawn(r);
  }

  void Signal(pid_t pid, int sig) override { kill(pid, sig); }

 private:
  const ConfigGenerations& configs_;
  std::string exe_;
  std::vector<std::string> argv_;
  std::vector<std::string> base_env_;
  int listen_fd_;
  int region_fd_;
};

// Proxy mode's pool as probes, /status and metrics see it: the app
// processes, with the proxy workers in front. Ready only when both are; a
// shutdown shows from the moment the proxy workers begin theirs.
class ProxiedPool : public pool::PoolView {
 public:
  ProxiedPool(const Supervisor& apps, const Supervisor& proxies)
      : apps_(apps), proxies_(proxies) {}

  pool::ProbeResult Live() const override {
    return Both(apps_.Live(), proxies_.Live());
  }
  pool::ProbeResult Ready() const override {
    return Both(apps_.Ready(), proxies_.Ready());
  }
  pool::ProbeResult Started() const override {
    return Both(apps_.Started(), proxies_.Started());
  }
  PoolState state() const override {
    PoolState p = proxies_.state();
    if (p == PoolState::kDrainDelay || p == PoolState::kDraining) return p;
    return apps_.state();
  }
  int workers_wanted() const override { return apps_.workers_wanted(); }
  int64_t generation() const override { return apps_.generation(); }
  std::vector<pool::WorkerView> Workers() const override {
    return apps_.Workers();
  }
  const pool::PoolCounts& counts() const override { return apps_.counts(); }
  nlohmann::json StatusJson() const override {
    nlohmann::json j = apps_.StatusJson();
    j["state"] = std::string(pool::Name(state()));
    j["proxy_workers"] = proxies_.StatusJson();
    return j;
  }

 private:
  static pool::ProbeResult Both(pool::ProbeResult apps,
                                pool::ProbeResult proxies) {
    if (!proxies.ok) return {false, "proxy workers: " + proxies.why};
    if (!apps.ok) return {false, "app processes: " + apps.why};
    return apps;
  }

  const Supervisor& apps_;
  const Supervisor& proxies_;
};

// Logs why the master cannot start, and passes the error on.
absl::Status Failed(std::string_view what, absl::Status error,
                    nlohmann::json fields = nlohmann::json::object()) {
  fields["error"] = std::string(error.message());
  log::Error(what, fields);
  return error;
}

// A directory of this master's own under parent ("corral-XXXXXX"), for
// `what`; the hint says how to fix a failure.
absl::StatusOr<std::string> PrivateDir(const std::string& parent,
                                       absl::string_view what,
                                       absl::string_view hint) {
  std::string pattern = absl::StrCat(parent, "/corral-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make a directory for ", what, " (", pattern, "; ",
                     hint, "): ", std::strerror(errno)));
  }
  return pattern;
}

}  // namespace

// The master cycle, read top to bottom in Run(): start the workers, then turn
// each event (a signal, a child's exit, a config change, the tick) into
// Supervisor calls until the pool has stopped. Every decision is the
// Supervisor's or ConfigGenerations'; this class only does the I/O.
class Master {
 public:
  // An empty `command` means workers are this binary again.
  Master(const App& app, const Options& options, std::vector<std::string> argv,
         std::vector<std::string> command = {})
      : app_(app),
        options_(options),
        argv_(std::move(argv)),
        command_(std::move(command)),
        configs_(app.config, clock_),
        signals_(io_, SIGTERM, SIGINT, SIGQUIT),
        ticker_(io_) {}

  // Sockets, the metrics region, the first config, the admin server. Nothing
  // is started yet; an error here means the pod cannot run at all.
  absl::Status Bootstrap();
  // Runs until every worker has exited; returns the exit code.
  int Run();

 private:
  absl::Status LoadFirstConfig();
  absl::Status MakeWorkers(int workers);
  // Proxy mode: the proxy workers' pool, in front of the app processes.
  void MakeProxies(const SupervisorConfig& apps, int proxies);
  const pool::PoolView& view() const {
    return proxied_pool_ ? static_cast<const pool::PoolView&>(*proxied_pool_)
                         : *supervisor_;
  }
  void WaitForSignal();
  void OnSignal(int sig);
  void OnChildExit();
  void OnConfigChange(std::string_view trigger);
  void ApplyConfig(const ConfigGenerations::Outcome& out,
                   std::string_view trigger);
  void OnTick();
  void StopIfFinished();
  int Exit();

  const App& app_;
  const Options& options_;
  std::vector<std::string> argv_;
  std::vector<std::string> command_;
  clock::SystemClock clock_;
  asio::io_context io_{1};
  std::optional<tcp::acceptor> listener_;
  std::optional<region::SharedRegion> region_;
  ConfigGenerations configs_;
  std::unique_ptr<ProcessControl> processes_;
  command::CommandWorkers* command_workers_ = nullptr;  // in processes_
  std::unique_ptr<Supervisor> supervisor_;
  // Proxy mode only.
  region::SlotRange app_slots_;
  region::SlotRange proxy_slots_;
  // Proxy mode with --app-socket-dir: where the app processes' sockets are.
  std::string app_sockets_;
  std::unique_ptr<ProcessControl> proxy_processes_;
  std::unique_ptr<Supervisor> proxies_;
  std::unique_ptr<ProxiedPool> proxied_pool_;
  std::unique_ptr<metrics::Collector> collector_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<config::ConfigWatcher> watcher_;
  std::unique_ptr<command::ConfigCheck> config_check_;
  asio::signal_set signals_;
  asio::steady_timer ticker_;
};

int Master::Run() {
  admin_->Start();
  supervisor_->Start();
  if (proxies_) proxies_->Start();
  WaitForSignal();
  OnTick();
  io_.run();
  return Exit();
}

void Master::WaitForSignal() {
  signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    OnSignal(sig);
    WaitForSignal();
  });
}

void Master::OnSignal(int sig) {
  switch (sig) {
    case SIGCHLD:
      OnChildExit();
      break;
    case SIGHUP:
      supervisor_->RequestRoll("SIGHUP");
      break;
    case SIGTERM:
    case SIGINT:
      // In proxy mode the proxy workers drain first; the app processes
      // serve them until they have stopped (see OnTick).
      (proxies_ ? *proxies_ : *supervisor_)
          .RequestShutdown(Shutdown::kGraceful, sigabbrev_np(sig));
      break;
    case SIGQUIT:
      (proxies_ ? *proxies_ : *supervisor_)
          .RequestShutdown(Shutdown::kSkipDelay, "QUIT");
      break;
  }
  supervisor_->Tick();
  if (proxies_) proxies_->Tick();
  StopIfFinished();
}

void Master::OnChildExit() {
  for (const pid1::ExitedChild& c : pid1::ReapChildren()) {
    if (supervisor_->OnChildExit(c.pid, c.status)) {
      if (command_workers_) command_workers_->Forget(c.pid);
    } else if (proxies_ && proxies_->OnChildExit(c.pid, c.status)) {
      continue;
    } else if (config_check_ && config_check_->OnChildExit(c.pid, c.status)) {
      continue;
    } else {
      log::Info("reaped orphaned process",
                {{"child_pid", c.pid}, {"exit", pid1::DescribeExit(c.status)}});
    }
  }
}

// A config change: validate (and run --config-check on it), then roll; a bad
// one changes nothing.
void Master::OnConfigChange(std::string_view trigger) {
  absl::StatusOr<config::Snapshot> snapshot =
      config::ReadSnapshot(options_.config_dir);
  if (config_check_ && configs_.Preview(snapshot).kind ==
                           ConfigGenerations::Outcome::Kind::kAccepted) {
    log::Info("config changed; running --config-check before any roll",
              {{"trigger", trigger}});
    config_check_->Start(
        *snapshot,
        [this, snapshot, trigger = std::string(trigger)](absl::Status verdict) {
          ApplyConfig(verdict.ok()
                          ? configs_.Offer(snapshot, options_.config_dir)
                          : configs_.Reject(std::string(verdict.message())),
                      trigger);
        });
    return;
  }
  ApplyConfig(configs_.Offer(snapshot, options_.config_dir), trigger);
}

void Master::ApplyConfig(const ConfigGenerations::Outcome& out,
                         std::string_view trigger) {
  collector_->SetConfig(configs_.generation(), configs_.hash(),
                        configs_.rejected());
  switch (out.kind) {
    case ConfigGenerations::Outcome::Kind::kUnchanged:
      log::Info("config files changed but their content did not; no roll",
                {{"trigger", trigger}, {"generation", out.generation}});
      break;
    case ConfigGenerations::Outcome::Kind::kRejected:
      log::Error("config change rejected; workers keep the last good config",
                 {{"trigger", trigger},
                  {"error", out.error},
                  {"serving_generation", supervisor_->generation()}});
      break;
    case ConfigGenerations::Outcome::Kind::kAccepted:
      log::Info("config changed; rolling workers to the new generation",
                {{"trigger", trigger},
                 {"generation", out.generation},
                 {"hash", out.hash},
                 {"keys", out.keys},
                 {"ignored_keys", out.ignored}});
      supervisor_->RequestRoll(
          absl::StrCat("config generation ", out.generation), out.generation);
      break;
  }
}

void Master::OnTick() {
  OnChildExit();  // a safety net: SIGCHLDs coalesce
  if (command_workers_) command_workers_->Tick();
  supervisor_->Tick();
  std::set<int64_t> in_use = supervisor_->GenerationsInUse();
  if (proxies_) {
    proxies_->Tick();
    if (proxies_->Finished() && supervisor_->state() != PoolState::kDraining &&
        supervisor_->state() != PoolState::kStopped) {
      supervisor_->RequestShutdown(Shutdown::kSkipDelay,
                                   "the proxy workers have stopped");
    }
    in_use.merge(proxies_->GenerationsInUse());
  }
  configs_.Prune(in_use);
  if (command_workers_) command_workers_->PruneConfigDirs(in_use);
  StopIfFinished();
  ticker_.expires_after(kTick);
  ticker_.async_wait([this](boost::system::error_code ec) {
    if (!ec) OnTick();
  });
}

void Master::StopIfFinished() {
  if (!supervisor_->Finished() || (proxies_ && !proxies_->Finished())) return;
  admin_->Stop();
  io_.stop();
}

// Nothing may outlive PID 1's exit: orphans a worker left behind get
// SIGTERM, then SIGKILL, and are reaped.
int Master::Exit() {
  OnChildExit();
  if (int n = pid1::EndRemainingChildren(2000); n > 0) {
    log::Info("ended processes left behind by workers", {{"processes", n}});
  }
  int code = supervisor_->ExitCode();
  if (proxies_) code = std::max(code, proxies_->ExitCode());
  log::Info("master exiting", {{"exit_code", code}});
  return code;
}

absl::Status Master::Bootstrap() {
  cpu::CpuCount cpus = cpu::Detect();
  int workers = options_.workers.value_or(cpus.workers);
  log::Info(
      "worker count",
      {{"workers", workers},
       {"how", options_.workers ? std::string("set by --workers") : cpus.how},
       {"cpus_detected", cpus.workers}});

  int backlog = Somaxconn();
  auto listener = Bind(io_, options_.listen, backlog);
  if (!listener.ok()) return Failed("cannot start", listener.status());
  listener_.emplace(std::move(*listener));
  auto admin_acceptor = Bind(io_, options_.admin, 1024);
  if (!admin_acceptor.ok()) {
    return Failed("cannot start", admin_acceptor.status());
  }
  const bool proxied = options_.proxy && !command_.empty();
  const int proxies = options_.proxy_workers.value_or(cpus.workers);
  // Room for each pool's draining workers beside its serving ones.
  int slots = std::max(64, workers * 4);
  if (proxied) {
    app_slots_ = {0,
                  std::min(region::kMaxUpstreams, std::max(16, workers * 4))};
    proxy_slots_ = {app_slots_.count, std::max(16, proxies * 4)};
    slots = app_slots_.count + proxy_slots_.count;
    log::Info(
        "proxy mode: corral's proxy workers hold the client "
        "connections and forward to the app processes",
        {{"proxy_workers", proxies},
         {"how", options_.proxy_workers
                     ? std::string("set by --proxy-workers")
                     : std::string("one per CPU the pod may use")},
         {"app_concurrency", options_.app_concurrency},
         {"max_queue", options_.max_queue}});
  }
  auto region = region::SharedRegion::Create(slots);
  if (!region.ok()) {
    return Failed("cannot create the metrics region", region.status());
  }
  region_.emplace(std::move(*region));
  if (absl::Status s = LoadFirstConfig(); !s.ok()) {
    return Failed("cannot start: config rejected", s,
                  {{"config_dir", options_.config_dir}});
  }

  SupervisorConfig config;
  config.workers = workers;
  config.drain_delay = options_.drain_delay;
  config.drain_timeout = options_.drain_timeout;
  config.worker_start_timeout = options_.worker_start_timeout;
  config.worker_timeout = options_.worker_timeout;
  config.crash_loop_limit = options_.crash_loop_limit;
  config.slots = app_slots_;
  if (proxied) config.name = "app";
  if (absl::Status s = MakeWorkers(workers); !s.ok()) {
    return Failed("cannot start", s);
  }
  supervisor_ =
      std::make_unique<Supervisor>(config, *processes_, *region_, clock_);
  if (proxied) MakeProxies(config, proxies);

  collector_ = std::make_unique<metrics::Collector>(app_.name, app_.version,
                                                    view(), *region_);
  collector_->SetConfig(configs_.generation(), configs_.hash(),
                        configs_.rejected());
  collector_->SetRequestMetrics(command_workers_ == nullptr);
  supervisor_->OnSlotRetired(
      [this](int slot) { collector_->RetireSlot(slot); });
  if (proxies_) {
    collector_->SetProxies(proxies_.get(), proxy_slots_);
    proxies_->OnSlotRetired([this](int slot) { collector_->RetireSlot(slot); });
  }
  admin_ = std::make_unique<admin::AdminServer>(io_, std::move(*admin_acceptor),
                                                view());
  admin_->SetStatusExtra([this]() {
    nlohmann::json j = {{"config", configs_.StatusJson()}};
    if (command_workers_) j["command"] = command_workers_->StatusJson();
    return j;
  });
  admin_->Add("/metrics", [this](const http::Request&, http::Respond respond) {
    http::Response r = http::Response::Text(200, collector_->Scrape());
    r.content_type = metrics::kContentType;
    respond(std::move(r));
  });

  if (!options_.config_dir.empty()) {
    watcher_ = std::make_unique<config::ConfigWatcher>(
        io_, options_.config_dir, std::chrono::milliseconds(250),
        [this](std::string_view why) { OnConfigChange(why); });
    watcher_->Start();
  }
  signals_.add(SIGHUP);
  signals_.add(SIGCHLD);

  log::Info("listening", {{"app", app_.name},
                          {"version", app_.version},
                          {"listen", FormatEndpoint(options_.listen)},
                          {"port", listener_->local_endpoint().port()},
                          {"admin", FormatEndpoint(options_.admin)},
                          {"admin_port", admin_->port()},
                          {"backlog", backlog},
                          {"pid1", getpid() == 1}});
  return absl::OkStatus();
}

absl::Status Master::MakeWorkers(int workers) {
  if (command_.empty()) {
    processes_ = std::make_unique<Processes>(argv_, listener_->native_handle(),
                                             region_->fd(), configs_);
    return absl::OkStatus();
  }
  command::CommandSettings s;
  s.command = command_;
  s.env = pool::InheritedEnv(CurrentEnvironment(), pool::WorkerKind::kCommand);
  s.listen_fd = listener_->native_handle();
  s.workers = workers;
  s.stop_signal = options_.stop_signal;
  s.proxied = options_.proxy;
  s.proxies = proxy_slots_;
  s.ready = EffectiveReadiness(options_);
  s.ready_after = options_.ready_after;
  s.watchdog = options_.worker_timeout;
  if (!options_.config_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    absl::StatusOr<std::string> dir =
        PrivateDir(tmp != nullptr && *tmp ? tmp : "/tmp", "config snapshots",
                   "set TMPDIR to a writable place");
    if (!dir.ok()) return dir.status();
    s.state_dir = *dir;
  }
  if (options_.proxy && !options_.app_socket_dir.empty()) {
    absl::StatusOr<std::string> dir =
        PrivateDir(options_.app_socket_dir, "the app processes' sockets",
                   "--app-socket-dir must be a writable directory");
    if (!dir.ok()) return dir.status();
    s.socket_dir = app_sockets_ = *dir;
  }
  std::string how =
      s.ready == Readiness::kNotify
          ? "when it sends READY=1 on $NOTIFY_SOCKET"
      : s.ready == Readiness::kPipe
          ? "when it writes a line to descriptor $CORRAL_READY_FD"
      : s.ready == Readiness::kPort
          ? (s.socket_dir.empty()
                 ? "when it accepts connections on 127.0.0.1:$PORT"
                 : "when it accepts connections on its unix socket $PORT")
          : absl::StrCat("once alive for ",
                         absl::FormatDuration(options_.ready_after),
                         " (or when it says READY=1 or writes to "
                         "$CORRAL_READY_FD first)");
  log::Info("workers run a command",
            {{"command", absl::StrJoin(command_, " ")},
             {"ready", absl::StrCat("a worker is ready ", how)},
             {"stop_signal", sigabbrev_np(options_.stop_signal)},
             {"config_snapshots", s.state_dir},
             {"app_sockets", s.socket_dir}});
  if (!options_.config_check.empty() && !s.state_dir.empty()) {
    config_check_ = std::make_unique<command::ConfigCheck>(
        io_, options_.config_check, s.state_dir + "/check",
        options_.worker_start_timeout);
  }
  auto workers_control = std::make_unique<command::CommandWorkers>(
      io_, std::move(s), *region_, clock_,
      [this](int64_t g) { return configs_.FdFor(g); });
  command_workers_ = workers_control.get();
  processes_ = std::move(workers_control);
  return absl::OkStatus();
}

void Master::MakeProxies(const SupervisorConfig& apps, int proxies) {
  const int share = (options_.max_queue + proxies - 1) / proxies;
  proxy_processes_ = std::make_unique<Processes>(
      argv_, listener_->native_handle(), region_->fd(), configs_,
      std::vector<std::string>{
          absl::StrCat(
              pool::kSiblingsEnv, "=",
              pool::FormatSlots(proxy_slots_.first, proxy_slots_.count)),
          absl::StrCat(pool::kProxyAppSlotsEnv, "=",
                       pool::FormatSlots(app_slots_.first, app_slots_.count)),
          absl::StrCat(pool::kProxyQueueShareEnv, "=", share),
          absl::StrCat(pool::kProxyAppSocketsEnv, "=", app_sockets_)});
  SupervisorConfig config = apps;
  config.workers = proxies;
  config.slots = proxy_slots_;
  config.name = "proxy";
  proxies_ =
      std::make_unique<Supervisor>(config, *proxy_processes_, *region_, clock_);
  proxied_pool_ = std::make_unique<ProxiedPool>(*supervisor_, *proxies_);
}

// The first config must be valid: there is no last good one to fall back on.
absl::Status Master::LoadFirstConfig() {
  const bool from_dir = !options_.config_dir.empty();
  ConfigGenerations::Outcome first = configs_.Offer(
      from_dir ? config::ReadSnapshot(options_.config_dir) : config::Snapshot(),
      from_dir ? options_.config_dir : "built-in defaults");
  if (first.kind == ConfigGenerations::Outcome::Kind::kRejected) {
    return absl::FailedPreconditionError(first.error);
  }
  log::Info("config loaded", {{"generation", first.generation},
                              {"hash", first.hash},
                              {"keys", first.keys},
                              {"ignored_keys", first.ignored},
                              {"config_dir", options_.config_dir}});
  return absl::OkStatus();
}

namespace {

// The process-wide part of being the master (and PID 1).
int RunAsMaster(Master& master) {
  log::Init("master");
  if (absl::Status s = pid1::SetUpAsInit(); !s.ok()) {
    log::Warn("cannot become a child subreaper; orphans escape to init",
              {{"error", s.ToString()}});
  }
  if (!master.Bootstrap().ok()) return 1;
  return master.Run();
}

}  // namespace

int RunMaster(const App& app, const Options& options,
              const std::vector<std::string>& argv) {
  Master master(app, options, argv);
  return RunAsMaster(master);
}

int RunCommandMaster(const Options& options,
                     const std::vector<std::string>& argv,
                     const std::vector<std::string>& command) {
  // Any config keys go through to the command; it validates them itself
  // (--config-check), or its replacement fails to start.
  static const App app = [] {
    App a;
    a.name = "corral";
    a.version = CORRAL_VERSION;
    return a;
  }();
  Master master(app, options, argv, command);
  return RunAsMaster(master);
}

}  // namespace corral::master
