// `corral -- CMD` without --listen: a drop-in for tini, checked the way tini's
// own tests check it, with corral as PID 1 of its own PID namespace.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.h"
#include "init_fixture.h"

namespace corral::e2e {
namespace {

TEST_F(InitTest, ExitCodesPassThrough) {
  for (int code = 0; code <= 255; ++code) {
    auto p = Init({"/bin/sh", "-c", "exit " + std::to_string(code)}, {},
                  /*pid_namespace=*/false);
    EXPECT_EQ(p->WaitExit(10s), code) << p->Logs();
  }
}

TEST_F(InitTest, ASignalThatEndsTheChildIs128PlusItsNumber) {
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGKILL}) {
    auto p = Init(
        {"/bin/sh", "-c", "kill -" + std::string(sigabbrev_np(sig)) + " $$"});
    EXPECT_EQ(p->WaitExit(10s), 128 + sig) << sigabbrev_np(sig) << p->Logs();
  }
}

TEST_F(InitTest, MissingAndNonExecutableCommandsAre127And126) {
  auto missing = Init({dir_ + "/no-such-program", "arg"});
  EXPECT_EQ(missing->WaitExit(10s), 127);
  EXPECT_NE(missing->Logs().find(dir_ + "/no-such-program: command not found"),
            std::string::npos)
      << missing->Logs();

  std::string plain = dir_ + "/not-executable";
  std::ofstream(plain) << "#!/bin/sh\nexit 0\n";
  chmod(plain.c_str(), 0644);
  auto denied = Init({plain});
  EXPECT_EQ(denied->WaitExit(10s), 126);
  EXPECT_NE(denied->Logs().find(plain + ": cannot execute"), std::string::npos)
      << denied->Logs();
}

TEST_F(InitTest, SignalsArePassedOnAndTermEndsTheChild) {
  auto p = Init(Recorder(), {"--drain-delay=0s"});
  ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s));
  for (int sig : {SIGUSR1, SIGUSR2, SIGWINCH, SIGHUP, SIGQUIT}) {
    p->Signal(sig);
    EXPECT_TRUE(PollUntil([&]() { return Marked(sigabbrev_np(sig)); }, 10s))
        << sigabbrev_np(sig) << " was not passed on";
  }
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  EXPECT_TRUE(Marked("TERM"));
}

TEST_F(InitTest, ProcessGroupFlagReachesTheGrandchildren) {
  // The child starts a grandchild in its own process group that records
  // USR1 separately.
  std::string grandchild = "/bin/sh -c 'trap \"echo GC >> " + marks() +
                           "\" USR1; echo gc-started >> " + marks() +
                           "; while :; do sleep 0.02; done' & ";
  for (bool group : {false, true}) {
    fs::remove(marks());
    std::vector<std::string> args = {"--drain-delay=0s"};
    if (group) args.push_back("--process-group");
    auto p = Init(Recorder(grandchild), args);
    ASSERT_TRUE(PollUntil(
        [&]() { return Marked("started") && Marked("gc-started"); }, 10s));
    p->Signal(SIGUSR1);
    ASSERT_TRUE(PollUntil([&]() { return Marked("USR1"); }, 10s));
    if (group) {
      EXPECT_TRUE(PollUntil([&]() { return Marked("GC"); }, 10s));
    } else {
      // The child has run its trap; the grandchild's would have run by now
      // had it been signalled: both loop on the same 20 ms sleep.
      p->Signal(SIGUSR2);
      ASSERT_TRUE(PollUntil([&]() { return Marked("USR2"); }, 10s));
      EXPECT_FALSE(Marked("GC"));
    }
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  }
}

TEST_F(InitTest, DrainDelayFailsReadinessBeforeTheChildIsTold) {
  uint16_t admin = FreePort();
  auto p = Init(Recorder(), {"--drain-delay=2s", "--readiness-at-term=fail",
                             "--admin=127.0.0.1:" + std::to_string(admin)});
  ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s));
  auto ready = [&]() { return HttpGet(admin, "/readyz").status; };
  ASSERT_TRUE(PollUntil([&]() { return ready() == 200; }, 10s));
  p->Signal(SIGTERM);
  ASSERT_TRUE(PollUntil([&]() { return ready() == 503; }, 10s));
  EXPECT_FALSE(Marked("TERM")) << "the child is told only after the delay";
  EXPECT_EQ(p->WaitExit(20s), 0) << p->Logs();
  EXPECT_TRUE(Marked("TERM"));
}

// As PID 1, corral's exit ends what the child left (the kernel ends a PID
// namespace with its init), as under tini; orphans that exit are reaped.
TEST_F(InitTest, OrphansAreReapedAndNothingOutlivesCorralAsPid1) {
  const std::string marker = "1000." + std::to_string(getpid());
  auto p = Init({"/bin/sh", "-c",
                 "(sleep 0.3 &); (sleep " + marker + " &); sleep 1; exit 5"});
  EXPECT_EQ(p->WaitExit(20s), 5) << p->Logs();
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string cmdline = ReadFile(e.path().string() + "/cmdline");
    EXPECT_EQ(cmdline.find(marker), std::string::npos)
        << "the orphan outlived corral: " << e.path();
  }
}

TEST_F(InitTest, NoZombiesPileUpUnderPid1) {
  auto p = Init({"/bin/sh", "-c",
                 "for i in 1 2 3 4 5; do (sleep 0.05 &); done; "
                 "while :; do sleep 0.05; done"});
  ASSERT_TRUE(PollUntil([&]() { return p->master_pid() > 0; }, 10s));
  // The orphans were reparented to corral (PID 1 here) and reaped by it:
  // only the child stays, and none of corral's children is a zombie.
  EXPECT_TRUE(PollUntil(
      [&]() {
        auto kids = p->ChildPids();
        if (kids.size() != 1) return false;
        std::string stat =
            ReadFile("/proc/" + std::to_string(kids[0]) + "/stat");
        return stat.find(") Z ") == std::string::npos;
      },
      10s));
  p->Signal(SIGKILL);
}

// Started with default dispositions (the harness undoes what ctest leaves
// ignored), corral hands on the same, and none of its descriptors.
TEST_F(InitTest, TheChildStartsWithDefaultSignalsAndOnlyItsOwnDescriptors) {
  auto p =
      Init({"/bin/sh", "-c",
            "grep -E '^Sig(Blk|Ign):' /proc/self/status; ls /proc/self/fd"},
           {}, /*pid_namespace=*/false);
  ASSERT_EQ(p->WaitExit(10s), 0) << p->Logs();
  std::string out = p->Logs();
  EXPECT_NE(out.find("SigBlk:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("SigIgn:\t0000000000000000"), std::string::npos) << out;
  // ls's own view: 0, 1, 2 and the directory it reads, nothing of corral's.
  std::istringstream lines(out);
  std::string line;
  std::vector<int> fds;
  while (std::getline(lines, line)) {
    if (!line.empty() && std::all_of(line.begin(), line.end(), ::isdigit)) {
      fds.push_back(std::stoi(line));
    }
  }
  EXPECT_EQ(fds, (std::vector<int>{0, 1, 2, 3})) << out;
}

// Nothing is lost however early it comes: from the first moment corral runs
// code of its own, every signal is blocked and none has a handler whose
// installation a signal could beat (the init loop reads them from a
// signalfd), so a SIGTERM sent then reaches the child once it runs.
TEST_F(InitTest, SignalsAreBlockedBeforeCorralDoesAnythingElse) {
  auto p = Init({"sleep", "1000"}, {"--drain-delay=0s", "--stop-signal=USR1"},
                /*pid_namespace=*/false);
  std::string proc = "/proc/" + std::to_string(p->master_pid());
  std::string status;
  ASSERT_TRUE(PollUntil(
      [&]() {
        std::error_code ec;
        if (fs::read_symlink(proc + "/exe", ec) != fs::path(CORRAL_BIN)) {
          return false;  // still the test's fork, before the exec
        }
        status = ReadFile(proc + "/status");
        return !MaskSignals(status, "SigBlk").empty() ||
               !MaskSignals(status, "SigCgt").empty();
      },
      10s));
  std::vector<int> blocked = MaskSignals(status, "SigBlk");
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD, SIGPIPE, SIGXCPU,
                  SIGSEGV, SIGTSTP, SIGRTMIN, SIGRTMAX}) {
    EXPECT_TRUE(Contains(blocked, sig)) << SignalName(sig) << "\n" << status;
  }
  EXPECT_TRUE(MaskSignals(status, "SigCgt").empty()) << status;
  p->Signal(SIGTERM);
  // The child ends by the stop signal corral sends it: corral got the TERM.
  EXPECT_EQ(p->WaitExit(20s), 128 + SIGUSR1) << p->Logs();
}

// tini passes on every signal it can (dumb-init the synchronous ones sent
// by kill too), and none of them may end corral by its default action,
// whether it is PID 1 (where the kernel drops them) or not.
TEST_F(InitTest, EverySignalACommandCanCatchIsPassedOnAndNoneEndsCorral) {
  std::vector<int> signals = {
      SIGHUP,    SIGQUIT, SIGUSR1,  SIGUSR2,      SIGWINCH, SIGCONT,
      SIGALRM,   SIGPWR,  SIGPIPE,  SIGURG,       SIGXCPU,  SIGXFSZ,
      SIGVTALRM, SIGPROF, SIGIO,    SIGSTKFLT,    SIGTSTP,  SIGTTIN,
      SIGTTOU,   SIGILL,  SIGTRAP,  SIGABRT,      SIGBUS,   SIGFPE,
      SIGSEGV,   SIGSYS,  SIGRTMIN, SIGRTMIN + 5, SIGRTMAX};
  for (bool pid1 : {false, true}) {
    fs::remove(marks());
    auto p =
        Init({"python3", std::string(CORRAL_E2E_APPS) + "/signal_recorder.py",
              marks()},
             {"--drain-delay=0s"}, pid1);
    ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 20s))
        << p->Logs();
    for (int sig : signals) {
      p->Signal(sig);
      EXPECT_TRUE(PollUntil([&]() { return Marked(std::to_string(sig)); }, 10s))
          << SignalName(sig) << " was not passed on (PID 1: " << pid1 << ")";
    }
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
    EXPECT_TRUE(Marked(std::to_string(SIGTERM)));
  }
}

// On a terminal, tini's way: the child's process group takes the terminal's
// foreground, so an interactive shell runs, reads, and has job control.
TEST_F(InitTest, AChildOnATerminalGetsItAndJobControlWorks) {
  const std::string script =
      std::string(CORRAL_E2E_APPS) + "/pty_job_control.py";
  const std::vector<std::string> bash = {"--", "bash", "--norc", "--noprofile",
                                         "-i"};
  std::vector<std::vector<std::string>> shapes = {
      {CORRAL_BIN},
      {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
       CORRAL_BIN}};
  for (std::vector<std::string> argv : shapes) {
    argv.insert(argv.begin(), {"python3", script});
    argv.insert(argv.end(), bash.begin(), bash.end());
    std::string cmd;
    for (const std::string& a : argv) cmd += "'" + a + "' ";
    std::string out = dir_ + "/pty-out";
    int rc = std::system((cmd + "> " + out + " 2>&1").c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd << "\n"
                                                       << ReadFile(out);
  }
}

// tini exits as soon as its child has; what the child left running is not
// waited for. Without --process-group it is left alone (as by tini, or by
// dumb-init --single-child): not PID 1, it passes to the next reaper up.
TEST_F(InitTest, CorralExitsWithItsChildAndLeavesTheRestAlone) {
  const pid_t leftover = RunChildThatLeavesOneBehind({});
  ASSERT_GT(leftover, 0);
  EXPECT_EQ(kill(leftover, 0), 0) << "corral ended what the child left";
  EXPECT_FALSE(Marked("LEFT-TERM"));
  kill(leftover, SIGKILL);
}

// With --process-group the group is the unit, as under dumb-init (and tini
// -g): what the child left in it gets SIGTERM, and is not waited for.
TEST_F(InitTest, WithProcessGroupTheRestOfTheGroupIsToldToStopNotAwaited) {
  const pid_t leftover = RunChildThatLeavesOneBehind({"--process-group"});
  ASSERT_GT(leftover, 0);
  EXPECT_TRUE(PollUntil([&]() { return Marked("LEFT-TERM"); }, 10s));
  EXPECT_EQ(kill(leftover, 0), 0) << "corral waited for, or killed, the rest";
  kill(leftover, SIGKILL);
}

// tini's sigconf test: what corral was started with ignoring or blocking,
// the child starts with too (SIGCHLD included, which corral itself cannot
// leave ignored).
TEST_F(InitTest, TheChildInheritsTheSignalDispositionsCorralInherited) {
  ProcessOptions options = InitOptions(
      // No shell between: dash resets SIGCHLD for itself.
      {"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}, {},
      /*pid_namespace=*/false);
  options.ignored_signals = {SIGUSR2, SIGCHLD, SIGRTMIN + 3};
  options.blocked_signals = {SIGALRM, SIGWINCH};
  options.stdout_apart = true;
  auto p = InitWith(options);
  ASSERT_EQ(p->WaitExit(10s), 0) << p->Logs();
  std::string out = p->Stdout();
  EXPECT_EQ(MaskSignals(out, "SigIgn"),
            (std::vector<int>{SIGUSR2, SIGCHLD, SIGRTMIN + 3}))
      << out;
  EXPECT_EQ(MaskSignals(out, "SigBlk"), (std::vector<int>{SIGALRM, SIGWINCH}))
      << out;
}

// A container runtime may mount no /proc of the new PID namespace: corral,
// PID 1 there, sees the host's. It needs none to reap and exit.
TEST_F(InitTest, WithoutItsOwnProcCorralStillExitsWithItsChild) {
  ProcessOptions options =
      InitOptions({"/bin/sh", "-c", "(sleep 1000 &); (sleep 0.05 &); exit 3"});
  options.mount_proc = false;
  auto p = InitWith(options);
  EXPECT_EQ(p->WaitExit(20s), 3) << p->Logs();
}

// The shape with workers needs none either: at exit, the master looks in
// /proc for what its workers left, and a foreign one lists nothing of its.
TEST_F(InitTest, WithoutItsOwnProcTheListenShapeStillExits) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1", "--ready=notify", "--drain-delay=0s"},
       .mount_proc = false,
       .binary = CORRAL_BIN,
       .command = {"python3",
                   std::string(CORRAL_E2E_APPS) + "/notify_app.py"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

// --drain-timeout bounds the init shape as it bounds a worker's drain.
TEST_F(InitTest, AChildThatIgnoresItsStopSignalIsKilledAtTheDrainTimeout) {
  auto p = Init({"/bin/sh", "-c",
                 "trap '' TERM; echo started >> " + marks() +
                     "; while :; do sleep 0.02; done"},
                {"--drain-delay=0s", "--drain-timeout=1s"});
  ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s));
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 128 + SIGKILL) << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("the child did not stop within the drain timeout; "
                           "killing it")
                .size(),
            1u)
      << p->Logs();
}

// Standard output is the app's: corral's own lines go to stderr, as
// tini's and dumb-init's do.
TEST_F(InitTest, LogsGoToStderrAndStdoutIsTheChildsAlone) {
  ProcessOptions options =
      InitOptions({"/bin/sh", "-c",
                   "echo from the child; trap 'exit 0' TERM; echo started >> " +
                       marks() + "; while :; do sleep 0.02; done"},
                  {"--drain-delay=0s", "--log-level=debug"});
  options.stdout_apart = true;
  auto p = InitWith(options);
  ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s));
  p->Signal(SIGTERM);
  ASSERT_EQ(p->WaitExit(10s), 0) << p->Logs();
  EXPECT_EQ(p->Stdout(), "from the child\n");
  EXPECT_EQ(p->LogsWithMsg("stopping the child").size(), 1u) << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("child exited").size(), 1u) << p->Logs();
}

// The same in the shape with workers (`corral --listen`), master and
// workers alike.
TEST_F(InitTest, TheListenShapeLogsToStderrToo) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1", "--ready=notify", "--drain-delay=0s"},
       .binary = CORRAL_BIN,
       .command = {"python3", std::string(CORRAL_E2E_APPS) + "/notify_app.py"},
       .stdout_apart = true});
  ASSERT_TRUE(p->WaitReady()) << p->Logs() << p->Stdout();
  EXPECT_EQ(p->LogsWithMsg("listening").size(), 1u) << p->Logs();
  EXPECT_EQ(p->Stdout(), "");
}

}  // namespace
}  // namespace corral::e2e
