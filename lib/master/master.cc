#include "master/master.h"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "admin/admin_server.h"
#include "config/config_dir.h"
#include "config/config_watcher.h"
#include "cpu/cpu_count.h"
#include "log/log.h"
#include "master/config_generations.h"
#include "master/spawn.h"
#include "master/supervisor.h"
#include "metrics/collector.h"
#include "pid1/pid1.h"
#include "region/shared_region.h"
#include "worker/worker.h"

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
            const ConfigGenerations& configs)
      : configs_(configs),
        exe_(SelfExePath()),
        argv_(std::move(argv)),
        listen_fd_(listen_fd),
        region_fd_(region_fd) {
    for (const auto& [key, value] : CurrentEnvironment()) {
      if (key.rfind("CORRAL_WORKER_", 0) == 0 || key == worker::kRoleEnv ||
          key == worker::kGenerationEnv || key == worker::kListenFdEnv ||
          key == worker::kRegionFdEnv || key == worker::kConfigFdEnv ||
          key == worker::kConfigHashEnv) {
        continue;
      }
      base_env_.push_back(absl::StrCat(key, "=", value));
    }
  }

  absl::StatusOr<pid_t> StartWorker(int index, int slot,
                                    int64_t generation) override {
    SpawnRequest r;
    r.exe = exe_;
    r.argv = argv_;
    r.env = base_env_;
    r.env.push_back(absl::StrCat(worker::kRoleEnv, "=worker"));
    r.env.push_back(absl::StrCat(worker::kIndexEnv, "=", index));
    r.env.push_back(absl::StrCat(worker::kSlotEnv, "=", slot));
    r.env.push_back(absl::StrCat(worker::kGenerationEnv, "=", generation));
    r.env.push_back(absl::StrCat(worker::kListenFdEnv, "=", kListenFd));
    r.env.push_back(absl::StrCat(worker::kRegionFdEnv, "=", kRegionFd));
    r.env.push_back(absl::StrCat(worker::kConfigFdEnv, "=", kConfigFd));
    r.env.push_back(absl::StrCat(worker::kConfigHashEnv, "=",
                                 configs_.HashFor(generation)));
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

}  // namespace

int RunMaster(const App& app, const Options& options,
              const std::vector<std::string>& argv) {
  log::Init("master");
  signal(SIGPIPE, SIG_IGN);
  if (absl::Status s = pid1::BecomeReaper(); !s.ok()) {
    log::Warn("cannot become a child subreaper; orphans escape to init",
              {{"error", s.ToString()}});
  }

  cpu::CpuCount cpus = cpu::Detect();
  int workers = options.workers.value_or(cpus.workers);
  log::Info(
      "worker count",
      {{"workers", workers},
       {"how", options.workers ? std::string("set by --workers") : cpus.how},
       {"cpus_detected", cpus.workers}});

  asio::io_context io(1);
  int backlog = Somaxconn();
  auto listener = Bind(io, options.listen, backlog);
  if (!listener.ok()) {
    log::Error("cannot start", {{"error", listener.status().ToString()}});
    return 1;
  }
  auto admin_acceptor = Bind(io, options.admin, 1024);
  if (!admin_acceptor.ok()) {
    log::Error("cannot start", {{"error", admin_acceptor.status().ToString()}});
    return 1;
  }
  auto region = region::SharedRegion::Create(std::max(64, workers * 4));
  if (!region.ok()) {
    log::Error("cannot create the metrics region",
               {{"error", region.status().ToString()}});
    return 1;
  }

  // The first config must be valid: there is no last good one to fall back on.
  ConfigGenerations configs(app.config);
  {
    config::Snapshot initial;
    if (!options.config_dir.empty()) {
      auto snap = config::ReadSnapshot(options.config_dir);
      if (!snap.ok()) {
        log::Error("cannot start: config dir unreadable",
                   {{"config_dir", options.config_dir},
                    {"error", snap.status().ToString()}});
        return 1;
      }
      initial = std::move(*snap);
    }
    auto first = configs.Offer(initial, options.config_dir.empty()
                                            ? std::string("built-in defaults")
                                            : options.config_dir);
    if (first.kind == ConfigGenerations::Outcome::Kind::kRejected) {
      log::Error("cannot start: config rejected",
                 {{"config_dir", options.config_dir}, {"error", first.error}});
      return 1;
    }
    log::Info("config loaded", {{"generation", first.generation},
                                {"hash", first.hash},
                                {"keys", first.keys},
                                {"ignored_keys", first.ignored},
                                {"config_dir", options.config_dir}});
  }

  SupervisorConfig config;
  config.workers = workers;
  config.drain_delay = options.drain_delay;
  config.drain_timeout = options.drain_timeout;
  config.worker_start_timeout = options.worker_start_timeout;
  config.worker_timeout = options.worker_timeout;
  config.crash_loop_limit = options.crash_loop_limit;
  Processes processes(argv, listener->native_handle(), region->fd(), configs);
  Supervisor supervisor(config, processes, *region);

  admin::AdminServer admin(io, std::move(*admin_acceptor), supervisor);
  metrics::Collector collector(app.name, app.version, supervisor, *region);
  collector.SetConfig(configs.generation(), configs.hash());
  admin.SetStatusExtra([&configs]() {
    return nlohmann::json{{"config", configs.StatusJson()}};
  });

  // A config change: validate, then roll; a bad one changes nothing.
  auto reload = [&](std::string_view why) {
    auto snap = config::ReadSnapshot(options.config_dir);
    ConfigGenerations::Outcome out;
    if (snap.ok()) {
      out = configs.Offer(*snap, options.config_dir);
    } else {
      out.kind = ConfigGenerations::Outcome::Kind::kRejected;
      out.error = snap.status().ToString();
    }
    switch (out.kind) {
      case ConfigGenerations::Outcome::Kind::kUnchanged:
        log::Info("config files changed but their content did not; no roll",
                  {{"trigger", why}, {"generation", out.generation}});
        break;
      case ConfigGenerations::Outcome::Kind::kRejected:
        collector.CountConfigReloadFailure();
        log::Error("config change rejected; workers keep the last good config",
                   {{"trigger", why},
                    {"error", out.error},
                    {"serving_generation", supervisor.generation()}});
        break;
      case ConfigGenerations::Outcome::Kind::kAccepted:
        collector.SetConfig(out.generation, out.hash);
        log::Info("config changed; rolling workers to the new generation",
                  {{"trigger", why},
                   {"generation", out.generation},
                   {"hash", out.hash},
                   {"keys", out.keys},
                   {"ignored_keys", out.ignored}});
        supervisor.RequestRoll(
            region::MonotonicNanos(),
            absl::StrCat("config generation ", out.generation), out.generation);
        break;
    }
  };
  std::unique_ptr<config::ConfigWatcher> watcher;
  if (!options.config_dir.empty()) {
    watcher = std::make_unique<config::ConfigWatcher>(
        io, options.config_dir, std::chrono::milliseconds(250), reload);
    if (absl::Status s = watcher->Start(); !s.ok()) {
      log::Error("cannot start: config dir cannot be watched",
                 {{"error", s.ToString()}});
      return 1;
    }
  }
  supervisor.OnSlotRetired(
      [&collector](int slot) { collector.RetireSlot(slot); });
  admin.Add("/metrics",
            [&collector](const http::Request&, http::Respond respond) {
              http::Response r = http::Response::Text(200, collector.Scrape());
              r.content_type = metrics::kContentType;
              respond(std::move(r));
            });

  log::Info("listening", {{"app", app.name},
                          {"version", app.version},
                          {"listen", FormatEndpoint(options.listen)},
                          {"port", listener->local_endpoint().port()},
                          {"admin", FormatEndpoint(options.admin)},
                          {"admin_port", admin.port()},
                          {"backlog", backlog},
                          {"pid1", getpid() == 1}});

  auto reap = [&]() {
    for (const pid1::ExitedChild& c : pid1::ReapChildren()) {
      if (!supervisor.OnChildExit(c.pid, c.status, region::MonotonicNanos())) {
        log::Info(
            "reaped orphaned process",
            {{"child_pid", c.pid}, {"exit", pid1::DescribeExit(c.status)}});
      }
    }
  };
  auto finish_if_done = [&]() {
    if (supervisor.Finished()) {
      admin.Stop();
      io.stop();
    }
  };

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGQUIT);
  signals.add(SIGHUP);
  signals.add(SIGCHLD);
  std::function<void()> wait_signal = [&]() {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      int64_t now = region::MonotonicNanos();
      switch (sig) {
        case SIGCHLD:
          reap();
          break;
        case SIGHUP:
          supervisor.RequestRoll(now, "SIGHUP");
          break;
        case SIGTERM:
        case SIGINT:
          // A second one means "hurry": skip the rest of the delay.
          supervisor.RequestShutdown(now,
                                     supervisor.state() == PoolState::kDraining,
                                     sigabbrev_np(sig));
          break;
        case SIGQUIT:
          supervisor.RequestShutdown(now, true, "QUIT");
          break;
      }
      supervisor.Tick(now);
      finish_if_done();
      wait_signal();
    });
  };
  wait_signal();

  asio::steady_timer ticker(io);
  std::function<void()> tick = [&]() {
    reap();  // a safety net: SIGCHLDs coalesce
    supervisor.Tick(region::MonotonicNanos());
    std::set<int64_t> in_use = {supervisor.generation(),
                                supervisor.stable_generation()};
    for (const auto& [pid, w] : supervisor.workers())
      in_use.insert(w.generation);
    configs.Prune(in_use);
    finish_if_done();
    ticker.expires_after(kTick);
    ticker.async_wait([&](boost::system::error_code ec) {
      if (!ec) tick();
    });
  };

  admin.Start();
  supervisor.Start(region::MonotonicNanos());
  tick();
  io.run();

  // Nothing may outlive PID 1's exit: orphans a worker left behind get
  // SIGTERM, then SIGKILL, and are reaped.
  reap();
  if (int n = pid1::EndRemainingChildren(2000); n > 0) {
    log::Info("ended processes left behind by workers", {{"processes", n}});
  }
  int code = supervisor.ExitCode();
  log::Info("master exiting", {{"exit_code", code}});
  return code;
}

}  // namespace corral::master
