#include "master/master.h"

#include <signal.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "config/config_dir.h"
#include "config/config_watcher.h"
#include "log/log.h"
#include "master/bootstrap.h"
#include "master/master_parts.h"
#include "pid1/pid1.h"

namespace corral::master {
namespace {

namespace asio = boost::asio;

constexpr std::chrono::milliseconds kTick{50};

// The master cycle, read top to bottom in Run(): start the pools, then turn
// each event (a signal, a child's exit, a config change, the tick) into
// calls on them until every pool has stopped. Decisions are the
// Supervisor's and ConfigGenerations'; what differs between the shapes is
// Pools'.
class Cycle {
 public:
  // Takes the shutdown signals at once: PID 1 has no default action for
  // them, and one that comes during Bootstrap waits for Run.
  Cycle(MasterParts& parts, const Options& options)
      : parts_(parts),
        pools_(parts.pools),
        options_(options),
        signals_(parts.io, SIGTERM, SIGINT, SIGQUIT),
        ticker_(parts.io) {}

  // Runs until every worker has exited; returns the exit code.
  int Run();

 private:
  void WaitForSignal();
  void OnSignal(int sig);
  void OnChildExit();
  void OnConfigChange(std::string_view trigger);
  void ApplyConfig(const ConfigGenerations::Outcome& out,
                   std::string_view trigger);
  void OnTick();
  void ReleaseListener();
  void StopIfFinished();
  int Exit();

  MasterParts& parts_;
  Pools& pools_;
  const Options& options_;
  asio::signal_set signals_;
  asio::steady_timer ticker_;
  std::unique_ptr<config::ConfigWatcher> watcher_;
};

int Cycle::Run() {
  signals_.add(SIGHUP);
  signals_.add(SIGCHLD);
  if (!options_.config_dir.empty()) {
    watcher_ = std::make_unique<config::ConfigWatcher>(
        parts_.io, options_.config_dir, std::chrono::milliseconds(250),
        [this](std::string_view why) { OnConfigChange(why); });
    watcher_->Start();
  }
  parts_.admin->Start();
  pools_.Start();
  WaitForSignal();
  OnTick();
  parts_.io.run();
  return Exit();
}

void Cycle::WaitForSignal() {
  signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    OnSignal(sig);
    WaitForSignal();
  });
}

void Cycle::OnSignal(int sig) {
  switch (sig) {
    case SIGCHLD:
      OnChildExit();
      break;
    case SIGHUP:
      pools_.workers->RequestRoll("SIGHUP");
      break;
    case SIGTERM:
    case SIGINT:
      pools_.RequestShutdown(Shutdown::kGraceful, sigabbrev_np(sig));
      break;
    case SIGQUIT:
      pools_.RequestShutdown(Shutdown::kSkipDelay, "QUIT");
      break;
  }
  pools_.TickSupervisors();
  ReleaseListener();
  StopIfFinished();
}

void Cycle::OnChildExit() {
  for (const pid1::ExitedChild& c : pid1::ReapChildren()) {
    if (!pools_.OnChildExit(c.pid, c.status)) {
      log::Info("reaped orphaned process",
                {{"child_pid", c.pid}, {"exit", pid1::DescribeExit(c.status)}});
    }
  }
}

// A config change: validate (and run --config-check on it), then roll; a bad
// one changes nothing.
void Cycle::OnConfigChange(std::string_view trigger) {
  ConfigGenerations& configs = parts_.configs;
  absl::StatusOr<config::Snapshot> snapshot =
      config::ReadSnapshot(options_.config_dir);
  if (pools_.config_check && configs.Preview(snapshot).kind ==
                                 ConfigGenerations::Outcome::Kind::kAccepted) {
    log::Info("config changed; running --config-check before any roll",
              {{"trigger", trigger}});
    pools_.config_check->Start(*snapshot, [this, &configs, snapshot,
                                           trigger = std::string(trigger)](
                                              absl::Status verdict) {
      ApplyConfig(verdict.ok() ? configs.Offer(snapshot, options_.config_dir)
                               : configs.Reject(std::string(verdict.message())),
                  trigger);
    });
    return;
  }
  ApplyConfig(configs.Offer(snapshot, options_.config_dir), trigger);
}

void Cycle::ApplyConfig(const ConfigGenerations::Outcome& out,
                        std::string_view trigger) {
  parts_.collector->SetConfig(parts_.configs.generation(),
                              parts_.configs.hash(), parts_.configs.rejected());
  switch (out.kind) {
    case ConfigGenerations::Outcome::Kind::kUnchanged:
      log::Info("config files changed but their content did not; no roll",
                {{"trigger", trigger}, {"generation", out.generation}});
      break;
    case ConfigGenerations::Outcome::Kind::kRejected:
      log::Error("config change rejected; workers keep the last good config",
                 {{"trigger", trigger},
                  {"error", out.error},
                  {"serving_generation", pools_.workers->generation()}});
      break;
    case ConfigGenerations::Outcome::Kind::kAccepted:
      log::Info("config changed; rolling workers to the new generation",
                {{"trigger", trigger},
                 {"generation", out.generation},
                 {"hash", out.hash},
                 {"keys", out.keys},
                 {"ignored_keys", out.ignored}});
      pools_.workers->RequestRoll(
          absl::StrCat("config generation ", out.generation), out.generation);
      break;
  }
}

void Cycle::OnTick() {
  OnChildExit();  // a safety net: SIGCHLDs coalesce
  if (parts_.cpus) {
    if (std::optional<cpu::CpuCount> cpus = parts_.cpus->Poll()) {
      pools_.FollowCpus(*cpus);
    }
  }
  std::set<int64_t> in_use = pools_.Tick();
  parts_.configs.Prune(in_use);
  pools_.Prune(in_use);
  ReleaseListener();
  StopIfFinished();
  ticker_.expires_after(kTick);
  ticker_.async_wait([this](boost::system::error_code ec) {
    if (!ec) OnTick();
  });
}

// Once the pool that accepts drains, no worker of it starts again. Holding
// the listening socket then only keeps a queue nobody accepts from, reset
// at the master's exit; closed, the socket ends with the last worker's
// descriptor, and that worker takes what is queued first (Worker::OnDrain).
void Cycle::ReleaseListener() {
  if (!parts_.listener || !parts_.listener->is_open()) return;
  PoolState front = pools_.front().state();
  if (front != PoolState::kDraining && front != PoolState::kStopped) return;
  boost::system::error_code ec;
  parts_.listener->close(ec);
  log::Info(
      "the master closed its copy of the listening socket: it closes with "
      "the last draining worker's, which serves what is queued");
}

void Cycle::StopIfFinished() {
  if (!pools_.Finished()) return;
  parts_.admin->Stop();
  parts_.io.stop();
}

// Nothing may outlive PID 1's exit: orphans a worker left behind get
// SIGTERM, then SIGKILL, and are reaped.
int Cycle::Exit() {
  OnChildExit();
  if (int n = pid1::EndRemainingChildren(2000); n > 0) {
    log::Info("ended processes left behind by workers", {{"processes", n}});
  }
  int code = pools_.ExitCode();
  log::Info("master exiting", {{"exit_code", code}});
  return code;
}

// The process-wide part of being the master (and PID 1), then bootstrap and
// the cycle.
int RunAsMaster(const App& app, const Options& options,
                const std::vector<std::string>& argv,
                const std::vector<std::string>& command) {
  MasterParts parts(app);
  Cycle cycle(parts, options);
  log::Init("master");
  if (absl::Status s = pid1::SetUpAsInit(); !s.ok()) {
    log::Warn("cannot become a child subreaper; orphans escape to init",
              {{"error", s.ToString()}});
  }
  if (!Bootstrap(options, argv, command, parts).ok()) return 1;
  return cycle.Run();
}

}  // namespace

int RunMaster(const App& app, const Options& options,
              const std::vector<std::string>& argv) {
  return RunAsMaster(app, options, argv, {});
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
  return RunAsMaster(app, options, argv, command);
}

}  // namespace corral::master
