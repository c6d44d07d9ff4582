#include "init/init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/admin_server.h"
#include "init/start_child.h"
#include "log/log.h"
#include "pid1/pid1.h"
#include "pool/pool.h"

extern char** environ;

namespace corral::init {
namespace {

namespace asio = boost::asio;

// The one child as probes see it: ready while it runs and no drain began.
class ChildView : public pool::PoolView {
 public:
  pool::ProbeResult Live() const override { return {true, "ok"}; }
  pool::ProbeResult Ready() const override {
    if (state_ == pool::PoolState::kStarting) return {false, "starting"};
    if (state_ == pool::PoolState::kDrainDelay && ready_through_drain_delay_) {
      return {true, "shutting down: serving through the drain delay"};
    }
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
  void SetReadyThroughDrainDelay(bool on) { ready_through_drain_delay_ = on; }

 private:
  pool::PoolState state_ = pool::PoolState::kStarting;
  bool ready_through_drain_delay_ = false;
  pid_t pid_ = 0;
  pool::PoolCounts counts_;
};

class Init {
 public:
  Init(const ParsedOptions& parsed, const std::vector<std::string>& command,
       const pid1::InheritedSignals& inherited)
      : options_(parsed.options),
        stop_signal_given_(parsed.given.count("stop-signal") > 0),
        command_(command),
        inherited_(inherited),
        signals_(io_),
        delay_(io_),
        deadline_(io_) {}

  absl::Status Start(bool admin);
  int Run();

 private:
  void ReadSignals();
  void OnSignal(int sig);
  void ReapChildren();
  void OnChildStopped(int sig);
  void OnContinued();
  void StopSelf();
  void OnChildExit(int status);
  void BeginDrain(int sig);
  void StopChild();
  void KillChild();
  void Forward(int sig);
  pid_t Target() const { return options_.process_group ? -child_ : child_; }

  const Options& options_;
  const bool stop_signal_given_;
  const std::vector<std::string>& command_;
  const pid1::InheritedSignals& inherited_;
  asio::io_context io_{1};
  // Every signal stays blocked (pid1::BlockAllSignals) and is read here, in
  // the loop: nothing runs in a handler and nothing is lost between two.
  asio::posix::stream_descriptor signals_;
  std::array<signalfd_siginfo, 16> received_{};
  asio::steady_timer delay_;     // --drain-delay
  asio::steady_timer deadline_;  // --drain-timeout
  ChildView view_;
  std::unique_ptr<admin::AdminServer> admin_;
  pid_t child_ = 0;
  std::optional<int> exit_code_;
  int drain_signal_ = 0;  // the signal that started the drain
  bool stop_sent_ = false;
  // corral stopped itself and was not continued yet. A stop of the child
  // it learns of meanwhile is the same job's (SIGCHLD is read before
  // SIGCONT): it does not stop corral again once continued.
  bool stopped_self_ = false;
  // corral stopped itself while its child held the terminal's foreground:
  // when continued in the foreground (fg), the child gets it back.
  bool child_had_terminal_ = false;
};

absl::Status Init::Start(bool admin) {
  sigset_t all;
  sigfillset(&all);
  int fd = signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("signalfd: ", std::strerror(errno)));
  }
  signals_.assign(fd);
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
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  // dumb-init's rule: corral itself holds no directory busy. It moves to /
  // before the child exists, which starts where corral was started.
  int here = -1;
  if (options_.leave_working_directory) {
    here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (here < 0 || chdir("/") != 0) {
      log::Warn("cannot leave the working directory for /",
                {{"error", std::strerror(errno)}});
      if (here >= 0) close(here);
      here = -1;
    }
  }
  absl::StatusOr<pid_t> pid = StartChild(command_, env, inherited_, here);
  if (here >= 0) close(here);
  if (!pid.ok()) return pid.status();
  child_ = *pid;
  view_.SetPid(child_);
  view_.SetReadyThroughDrainDelay(!options_.readiness_fails_at_term);
  view_.Set(pool::PoolState::kServing);
  log::Debug("child started", {{"child_pid", child_},
                               {"command", absl::StrJoin(command_, " ")}});
  return absl::OkStatus();
}

// Returns once the child has exited and every child that had exited by then
// is reaped, at once, as tini does. What the child left running is not
// waited for: as PID 1 the kernel ends it when corral exits; otherwise it
// passes to the next reaper up (see OnChildExit for --process-group).
int Init::Run() {
  ReadSignals();
  io_.run();
  return exit_code_.value_or(1);
}

void Init::ReadSignals() {
  signals_.async_read_some(
      asio::buffer(received_),
      [this](boost::system::error_code ec, size_t bytes) {
        if (ec) return;
        for (size_t i = 0; i < bytes / sizeof(signalfd_siginfo); ++i) {
          if (exit_code_) return;
          OnSignal(static_cast<int>(received_[i].ssi_signo));
        }
        if (!exit_code_) ReadSignals();
      });
}

// A received signal, rewritten as --rewrite-signal says (dumb-init -r):
// what is passed on changes, what starts the drain does not.
void Init::OnSignal(int received) {
  if (received == SIGCHLD) {
    ReapChildren();
    return;
  }
  const int sig = RewriteSignal(options_.signal_rewrites, received);
  if (sig == 0) {
    log::Debug("signal dropped (--rewrite-signal)",
               {{"signal", SignalName(received)}});
    return;
  }
  if (received == SIGCONT) OnContinued();
  if (received == SIGTERM || received == SIGINT) {
    BeginDrain(sig);
  } else if (IsForwarded(received)) {
    Forward(sig);
  }
  if (options_.stop_on_terminal_stop_signals && IsTerminalStop(received)) {
    StopSelf();
  }
}

void Init::ReapChildren() {
  std::optional<int> child_status;
  // The child's stops too (WUNTRACED): SIGCHLD tells of those as well.
  int status = 0;
  if (child_ > 0 && !exit_code_ &&
      waitpid(child_, &status, WNOHANG | WUNTRACED) == child_) {
    if (WIFSTOPPED(status)) {
      OnChildStopped(WSTOPSIG(status));
    } else {
      child_status = status;
    }
  }
  for (const pid1::ExitedChild& c : pid1::ReapChildren()) {
    if (c.pid == child_) {
      child_status = c.status;
      continue;
    }
    nlohmann::json fields = {{"child_pid", c.pid},
                             {"exit", pid1::DescribeExit(c.status)}};
    if (options_.warn_on_reap) {
      log::Warn("reaped orphaned process", fields);
    } else {
      log::Debug("reaped orphaned process", fields);
    }
  }
  if (child_status) OnChildExit(*child_status);
}

// The child stopped by the terminal (^Z, or its reading or writing from the
// background): corral stops too, so the shell that started it sees its job
// stopped and prompts again. A child stopped by SIGSTOP stops alone.
void Init::OnChildStopped(int sig) {
  log::Debug("child stopped",
             {{"child_pid", child_}, {"signal", SignalName(sig)}});
  if (IsTerminalStop(sig) && !stopped_self_) StopSelf();
}

// Stops corral with SIGSTOP, which nothing blocks; the loop goes on when
// SIGCONT (fg, bg) continues it. PID 1 has no job to stop (and the kernel
// would not stop it).
void Init::StopSelf() {
  if (getpid() == 1) return;
  stopped_self_ = true;
  child_had_terminal_ = tcgetpgrp(STDIN_FILENO) == child_;
  log::Debug("stopping corral itself, as its job", {{"child_pid", child_}});
  kill(getpid(), SIGSTOP);
}

// Continued with the terminal's foreground (fg gave it to corral's process
// group): the child, which had it, gets it back before its own SIGCONT.
// SIGTTOU is blocked, so handing it on cannot stop corral.
void Init::OnContinued() {
  stopped_self_ = false;
  if (child_had_terminal_ && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
    child_had_terminal_ = false;
    tcsetpgrp(STDIN_FILENO, child_);
  }
}

void Init::OnChildExit(int status) {
  const int code = ExitCodeOf(status);
  exit_code_ = options_.success_exit_codes.count(code) ? 0 : code;
  view_.Set(pool::PoolState::kStopped);
  log::Debug("child exited", {{"child_pid", child_},
                              {"exit", pid1::DescribeExit(status)},
                              {"child_exit_code", code},
                              {"exit_code", *exit_code_}});
  // With --process-group the child's group is the unit, as under dumb-init:
  // what the child left in it is told to stop (by the signal SIGTERM is
  // rewritten to), and not waited for.
  const int stop = RewriteSignal(options_.signal_rewrites, SIGTERM);
  if (options_.process_group && options_.stop_group_at_exit && stop != 0 &&
      kill(-child_, stop) == 0) {
    log::Debug("told what the child left in its process group to stop",
               {{"process_group", child_}, {"signal", SignalName(stop)}});
  }
  delay_.cancel();
  deadline_.cancel();
  signals_.close();
  if (admin_) admin_->Stop();
  io_.stop();
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
              {{"signal", SignalName(sig)}});
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
      options_.readiness_fails_at_term
          ? "shutting down: readiness now fails; the child serves on during "
            "the drain delay"
          : "shutting down: readiness stays up and the child serves on "
            "through the drain delay",
      {{"signal", SignalName(sig)},
       {"drain_delay_seconds", absl::ToDoubleSeconds(options_.drain_delay)}});
  delay_.expires_after(
      std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options_.drain_delay)));
  delay_.async_wait([this](boost::system::error_code ec) {
    if (!ec && !stop_sent_) StopChild();
  });
}

// The stop signal, then --drain-timeout for the child to act on it.
void Init::StopChild() {
  stop_sent_ = true;
  delay_.cancel();
  view_.Set(pool::PoolState::kDraining);
  int sig = stop_signal_given_ ? options_.stop_signal : drain_signal_;
  log::Info("stopping the child",
            {{"signal", SignalName(sig)},
             {"drain_timeout_seconds",
              absl::ToDoubleSeconds(options_.drain_timeout)}});
  Forward(sig);
  // Infinite under the names tini and dumb-init: neither ever kills.
  if (options_.drain_timeout == absl::InfiniteDuration()) return;
  deadline_.expires_after(std::chrono::nanoseconds(
      absl::ToInt64Nanoseconds(options_.drain_timeout)));
  deadline_.async_wait([this](boost::system::error_code ec) {
    if (!ec) KillChild();
  });
}

void Init::KillChild() {
  if (child_ <= 0 || exit_code_) return;
  log::Warn("the child did not stop within the drain timeout; killing it",
            {{"child_pid", child_},
             {"signal", "KILL"},
             {"drain_timeout_seconds",
              absl::ToDoubleSeconds(options_.drain_timeout)}});
  kill(Target(), SIGKILL);
}

void Init::Forward(int sig) {
  if (child_ <= 0 || exit_code_) return;
  kill(Target(), sig);
}

}  // namespace

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

int RewriteSignal(const std::map<int, int>& rewrites, int sig) {
  auto it = rewrites.find(sig);
  return it == rewrites.end() ? sig : it->second;
}

bool IsTerminalStop(int sig) {
  return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

bool IsForwarded(int sig) {
  if (sig <= 0 || sig >= NSIG) return false;
  switch (sig) {
    case SIGCHLD:  // corral's own: a child to reap
    case SIGTERM:  // the drain, which ends in a signal too
    case SIGINT:
    case SIGKILL:  // never reach a process's handling
    case SIGSTOP:
      return false;
    default:
      return true;
  }
}

int RunInit(const ParsedOptions& parsed,
            const std::vector<std::string>& command,
            const pid1::InheritedSignals& inherited) {
  log::Init("init");
  // corral waits for its children: ignored, SIGCHLD would have the kernel
  // reap them, exit code and all. The child gets the inherited one back.
  signal(SIGCHLD, SIG_DFL);
  // tini -p: the signal comes as any other, blocked and read in the loop.
  if (parsed.options.parent_death_signal != 0 &&
      prctl(PR_SET_PDEATHSIG, parsed.options.parent_death_signal) != 0) {
    log::Error("cannot set the parent death signal",
               {{"error", std::strerror(errno)}});
    return 1;
  }
  if (absl::Status s = pid1::BecomeReaper(); !s.ok()) {
    log::Warn("cannot become a child subreaper; orphans escape to init",
              {{"error", s.ToString()}});
  }
  Init init(parsed, command, inherited);
  if (absl::Status s = init.Start(parsed.given.count("admin") > 0); !s.ok()) {
    log::Error("cannot start", {{"error", std::string(s.message())}});
    return 1;
  }
  return init.Run();
}

}  // namespace corral::init
