#include "init/init.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/admin_server.h"
#include "command/spawn_command.h"
#include "log/log.h"
#include "pid1/pid1.h"
#include "pool/pool.h"

extern char** environ;

namespace corral::init {
namespace {

namespace asio = boost::asio;

// What a shell passes on to a job; the synchronous signals (SEGV, BUS...)
// are the process's own, and SIGPIPE would be corral's own broken writes.
constexpr int kForwarded[] = {SIGHUP,   SIGQUIT, SIGUSR1, SIGUSR2,
                              SIGWINCH, SIGCONT, SIGALRM, SIGPWR};

// The one child as probes see it: ready while it runs and no drain began.
class ChildView : public pool::PoolView {
 public:
  pool::ProbeResult Live() const override { return {true, "ok"}; }
  pool::ProbeResult Ready() const override {
    if (state_ == pool::PoolState::kStarting) return {false, "starting"};
    if (state_ != pool::PoolState::kServing) return {false, "shutting down"};
    return {true, "ok"};
  }
  pool::ProbeResult Started() const override {
    return state_ == pool::PoolState::kStarting
               ? pool::ProbeResult{false, "starting"}
               : pool::ProbeResult{true, "ok"};
  }
  pool::PoolState state() const override { return state_; }
  int workers_wanted() const override { return 1; }
  int64_t generation() const override { return 1; }
  std::vector<pool::WorkerView> Workers() const override {
    if (pid_ == 0) return {};
    return {{0, -1, pid_, pool::WorkerPhase::kReady}};
  }
  const pool::PoolCounts& counts() const override { return counts_; }
  nlohmann::json StatusJson() const override {
    return {{"state", pool::Name(state_)}, {"child_pid", pid_}};
  }

  void Set(pool::PoolState s) { state_ = s; }
  void SetPid(pid_t pid) { pid_ = pid; }

 private:
  pool::PoolState state_ = pool::PoolState::kStarting;
  pid_t pid_ = 0;
  pool::PoolCounts counts_;
};

class Init {
 public:
  Init(const ParsedOptions& parsed, const std::vector<std::string>& command)
      : options_(parsed.options),
        stop_signal_given_(parsed.given.count("stop-signal") > 0),
        command_(command),
        signals_(io_),
        delay_(io_) {}

  absl::Status Start(bool admin);
  int Run();

 private:
  void WaitForSignal();
  void OnSignal(int sig);
  void OnChildExit();
  void BeginDrain(int sig);
  void StopChild();
  void Forward(int sig);

  const Options& options_;
  const bool stop_signal_given_;
  const std::vector<std::string>& command_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer delay_;
  ChildView view_;
  std::unique_ptr<admin::AdminServer> admin_;
  pid_t child_ = 0;
  std::optional<int> exit_code_;
  int drain_signal_ = 0;  // the signal that started the drain
  bool stop_sent_ = false;
};

absl::Status Init::Start(bool admin) {
  for (int sig : kForwarded) signals_.add(sig);
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGCHLD);
  if (admin) {
    boost::system::error_code ec;
    asio::ip::tcp::endpoint at(asio::ip::make_address(options_.admin.host, ec),
                               options_.admin.port);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", options_.admin.host, "\" is not an IP address"));
    }
    asio::ip::tcp::acceptor acceptor(io_);
    acceptor.open(at.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(at, ec);
    if (!ec) acceptor.listen(64, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ",
                                                 FormatEndpoint(options_.admin),
                                                 ": ", ec.message()));
    }
    admin_ =
        std::make_unique<admin::AdminServer>(io_, std::move(acceptor), view_);
    admin_->Start();
  }
  command::CommandSpec spec;
  spec.argv = command_;
  for (char** e = environ; *e != nullptr; ++e) spec.env.emplace_back(*e);
  absl::StatusOr<pid_t> pid = command::SpawnCommand(spec);
  if (!pid.ok()) return pid.status();
  child_ = *pid;
  view_.SetPid(child_);
  view_.Set(pool::PoolState::kServing);
  log::Debug("child started", {{"child_pid", child_},
                               {"command", absl::StrJoin(command_, " ")}});
  return absl::OkStatus();
}

int Init::Run() {
  WaitForSignal();
  io_.run();
  // The child is gone; nothing it left behind may outlive us.
  if (int n = pid1::EndRemainingChildren(2000); n > 0) {
    log::Info("ended processes the child left behind", {{"processes", n}});
  }
  return exit_code_.value_or(1);
}

void Init::WaitForSignal() {
  signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    OnSignal(sig);
    if (!exit_code_) WaitForSignal();
  });
}

void Init::OnSignal(int sig) {
  if (sig == SIGCHLD) {
    OnChildExit();
  } else if (sig == SIGTERM || sig == SIGINT) {
    BeginDrain(sig);
  } else {
    Forward(sig);
  }
}

void Init::OnChildExit() {
  for (const pid1::ExitedChild& c : pid1::ReapChildren()) {
    if (c.pid != child_) {
      log::Debug(
          "reaped orphaned process",
          {{"child_pid", c.pid}, {"exit", pid1::DescribeExit(c.status)}});
      continue;
    }
    exit_code_ = ExitCodeOf(c.status);
    view_.Set(pool::PoolState::kStopped);
    log::Debug("child exited", {{"child_pid", c.pid},
                                {"exit", pid1::DescribeExit(c.status)},
                                {"exit_code", *exit_code_}});
  }
  if (exit_code_) {
    delay_.cancel();
    signals_.cancel();
    if (admin_) admin_->Stop();
    io_.stop();
  }
}

// SIGTERM/SIGINT: readiness fails at once; the child gets its signal once
// the drain delay has passed (at once when it is 0s, as with tini). A second
// one skips the rest of the delay; after that, each is passed on.
void Init::BeginDrain(int sig) {
  if (stop_sent_) {
    Forward(sig);
    return;
  }
  if (drain_signal_ != 0) {
    log::Info("second shutdown signal: skipping the rest of the drain delay",
              {{"signal", sigabbrev_np(sig)}});
    StopChild();
    return;
  }
  drain_signal_ = sig;
  view_.Set(pool::PoolState::kDrainDelay);
  if (options_.drain_delay <= absl::ZeroDuration()) {
    StopChild();
    return;
  }
  log::Info(
      "shutting down: readiness now fails; the child serves on during "
      "the drain delay",
      {{"signal", sigabbrev_np(sig)},
       {"drain_delay_seconds", absl::ToDoubleSeconds(options_.drain_delay)}});
  delay_.expires_after(
      std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.drain_delay)));
  delay_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stop_sent_) StopChild();
  });
}

void Init::StopChild() {
  stop_sent_ = true;
  delay_.cancel();
  view_.Set(pool::PoolState::kDraining);
  int sig = stop_signal_given_ ? options_.stop_signal : drain_signal_;
  log::Info("stopping the child", {{"signal", sigabbrev_np(sig)}});
  Forward(sig);
}

void Init::Forward(int sig) {
  if (child_ <= 0 || exit_code_) return;
  kill(options_.process_group ? -child_ : child_, sig);
}

}  // namespace

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

bool IsForwarded(int sig) {
  for (int f : kForwarded) {
    if (f == sig) return true;
  }
  return false;
}

int RunInit(const ParsedOptions& parsed,
            const std::vector<std::string>& command) {
  log::Init("init");
  if (absl::Status s = pid1::SetUpAsInit(); !s.ok()) {
    log::Warn("cannot become a child subreaper; orphans escape to init",
              {{"error", s.ToString()}});
  }
  Init init(parsed, command);
  if (absl::Status s = init.Start(parsed.given.count("admin") > 0); !s.ok()) {
    log::Error("cannot start", {{"error", std::string(s.message())}});
    return 1;
  }
  return init.Run();
}

}  // namespace corral::init
