// corral invoked as tini or dumb-init (a symlink under that name, as the
// image provides): each program's flags and environment variables with
// their meaning, refusals as that program refuses, and corral's own flags
// for the same things. Only corral runs here: neither tini nor dumb-init
// needs to be installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.h"
#include "init_fixture.h"

namespace corral::e2e {
namespace {

class InitCompatTest : public InitTest {
 protected:
  void SetUp() override {
    InitTest::SetUp();
    fs::create_symlink(CORRAL_BIN, tini());
    fs::create_symlink(CORRAL_BIN, dumb_init());
  }
  std::string tini() const { return dir_ + "/tini"; }
  std::string dumb_init() const { return dir_ + "/dumb-init"; }

  // `program` (a symlink's path, or CORRAL_BIN) with `args`, then "--" and
  // the command; stdout apart from the log lines on stderr.
  std::unique_ptr<CorralProcess> Run(
      const std::string& program, std::vector<std::string> args,
      std::vector<std::string> command,
      std::map<std::string, std::string> env = {}, bool pid_namespace = false) {
    ProcessOptions options =
        InitOptions(std::move(command), std::move(args), pid_namespace);
    options.binary = program;
    options.env = std::move(env);
    options.stdout_apart = true;
    return InitWith(std::move(options));
  }
  // A process's state letter (/proc/PID/stat): 'T' when stopped.
  static char State(pid_t pid) {
    std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    return close == std::string::npos ? ' ' : stat[close + 2];
  }
  int Count(const std::string& what) const {
    std::istringstream in(ReadFile(marks()));
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line == what;
    return n;
  }
  // Whether a grandchild in the child's process group gets USR1 when
  // corral does, as `group` says. Not signalled, it would have marked it by
  // the time the child has marked a later USR2: both loop on the same 20 ms
  // sleep.
  void ExpectGrandchildGetsSignals(CorralProcess& p, bool group,
                                   const std::string& what) {
    ASSERT_TRUE(PollUntil(
        [&]() { return Marked("started") && Marked("gc-started"); }, 10s))
        << what << p.Logs();
    p.Signal(SIGUSR1);
    ASSERT_TRUE(PollUntil([&]() { return Marked("USR1"); }, 10s)) << what;
    if (group) {
      EXPECT_TRUE(PollUntil([&]() { return Marked("GC"); }, 10s)) << what;
      return;
    }
    p.Signal(SIGUSR2);
    ASSERT_TRUE(PollUntil([&]() { return Marked("USR2"); }, 10s)) << what;
    EXPECT_FALSE(Marked("GC")) << what;
  }
  std::vector<std::string> RecorderWithGrandchild() {
    return Recorder("/bin/sh -c 'trap \"echo GC >> " + marks() +
                    "\" USR1; echo gc-started >> " + marks() +
                    "; while :; do sleep 0.02; done' & ");
  }
};

// tini -e and --success-exit-codes: a code in the list is 0, also 128+N.
TEST_F(InitCompatTest, ExitCodesRemappedToZero) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
  };
  for (const Case& c : std::vector<Case>{
           {tini(), {"-e", "3", "-e143"}},
           {CORRAL_BIN, {"--success-exit-codes=3,143"}},
       }) {
    auto three = Run(c.program, c.args, {"/bin/sh", "-c", "exit 3"});
    EXPECT_EQ(three->WaitExit(10s), 0) << c.program << three->Logs();
    auto four = Run(c.program, c.args, {"/bin/sh", "-c", "exit 4"});
    EXPECT_EQ(four->WaitExit(10s), 4) << c.program << four->Logs();
    auto termed = Run(c.program, c.args, {"/bin/sh", "-c", "kill -TERM $$"});
    EXPECT_EQ(termed->WaitExit(10s), 0) << c.program << termed->Logs();
  }
}

// tini -p and --parent-death-signal: when corral's parent dies, corral gets
// the signal and passes it on, as if it had been sent.
TEST_F(InitCompatTest, ParentDeathSignalReachesTheChild) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
  };
  for (const Case& c : std::vector<Case>{
           {tini(), {"-p", "SIGUSR1"}},
           {CORRAL_BIN, {"--parent-death-signal=USR1", "--drain-delay=0s"}},
       }) {
    fs::remove(marks());
    // A shell as corral's parent, which the test then kills.
    const std::string pid_file = dir_ + "/corral.pid";
    fs::remove(pid_file);
    std::vector<std::string> args = {
        "-c", "\"$0\" \"$@\" & echo $! > " + pid_file + "; wait", c.program};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto parent = Run("/bin/sh", args, Recorder());
    ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s))
        << parent->Logs();
    pid_t corral = 0;
    std::istringstream(ReadFile(pid_file)) >> corral;
    ASSERT_GT(corral, 0);
    EXPECT_FALSE(Marked("USR1"));
    parent->Signal(SIGKILL);
    EXPECT_TRUE(PollUntil([&]() { return Marked("USR1"); }, 10s))
        << c.program << parent->Logs();
    kill(corral, SIGTERM);
    EXPECT_TRUE(PollUntil([&]() { return Marked("TERM"); }, 10s));
  }
}

// Who gets a signal: the child alone (tini, dumb-init -c or
// DUMB_INIT_SETSID=0) or its whole process group (tini -g,
// TINI_KILL_PROCESS_GROUP, dumb-init by default).
TEST_F(InitCompatTest, ProcessGroupAsEachProgramSetsIt) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    bool group;
  };
  for (const Case& c : std::vector<Case>{
           {tini(), {}, {}, false},
           {tini(), {"-g"}, {}, true},
           {tini(), {}, {{"TINI_KILL_PROCESS_GROUP", "1"}}, true},
           {dumb_init(), {}, {}, true},
           {dumb_init(), {"-c"}, {}, false},
           {dumb_init(), {"--single-child"}, {}, false},
           {dumb_init(), {}, {{"DUMB_INIT_SETSID", "0"}}, false},
       }) {
    fs::remove(marks());
    // PID 1 of a namespace: the grandchild ends with it.
    auto p = Run(c.program, c.args, RecorderWithGrandchild(), c.env,
                 /*pid_namespace=*/true);
    ExpectGrandchildGetsSignals(
        *p, c.group,
        c.program + " " + (c.args.empty() ? "" : c.args[0]) + " " +
            (c.env.empty() ? "" : c.env.begin()->first));
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  }
}

// dumb-init -r and --rewrite-signal: USR1 reaches the child as USR2, and
// USR2 (rewritten to 0) not at all.
TEST_F(InitCompatTest, SignalsRewrittenAndDropped) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
  };
  for (const Case& c : std::vector<Case>{
           {dumb_init(), {"-r", "10:12", "--rewrite=12:0"}},
           {CORRAL_BIN,
            {"--rewrite-signal=USR1:USR2,USR2:0", "--drain-delay=0s"}},
       }) {
    fs::remove(marks());
    auto p = Run(c.program, c.args, Recorder());
    ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s))
        << p->Logs();
    p->Signal(SIGUSR1);
    ASSERT_TRUE(PollUntil([&]() { return Marked("USR2"); }, 10s))
        << c.program << p->Logs();
    EXPECT_FALSE(Marked("USR1"));
    p->Signal(SIGUSR2);
    // WINCH comes after USR2 in the child's trap order: once it is marked,
    // a USR2 passed on would have been too.
    p->Signal(SIGWINCH);
    ASSERT_TRUE(PollUntil([&]() { return Marked("WINCH"); }, 10s));
    EXPECT_EQ(Count("USR2"), 1) << c.program << " passed on a dropped USR2";
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  }
}

// tini -v / TINI_VERBOSITY and dumb-init -v / DUMB_INIT_DEBUG: corral's
// debug lines, on stderr; by default, as with both programs, none at all.
TEST_F(InitCompatTest, VerbosityGoesToStderr) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    bool verbose;
  };
  for (const Case& c : std::vector<Case>{
           {tini(), {}, {}, false},
           {tini(), {"-vvv"}, {}, true},
           {tini(), {"-v"}, {{"TINI_VERBOSITY", "3"}}, true},
           {tini(), {"-vvv"}, {{"TINI_VERBOSITY", "0"}}, false},
           {dumb_init(), {}, {}, false},
           {dumb_init(), {"-v"}, {}, true},
           {dumb_init(), {}, {{"DUMB_INIT_DEBUG", "1"}}, true},
       }) {
    auto p = Run(c.program, c.args, {"/bin/sh", "-c", "echo out"}, c.env);
    ASSERT_EQ(p->WaitExit(10s), 0) << p->Logs();
    EXPECT_EQ(p->Stdout(), "out\n") << c.program;
    if (c.verbose) {
      EXPECT_EQ(p->LogsWithMsg("child started").size(), 1u) << p->Logs();
      EXPECT_EQ(p->LogsWithMsg("child exited").size(), 1u) << p->Logs();
    } else {
      EXPECT_EQ(p->Logs(), "") << c.program;
    }
  }
}

// tini -w: each orphan reaped is a warning, which tini's default
// verbosity shows.
TEST_F(InitCompatTest, TiniWarnsOfEachReapedOrphan) {
  // The orphan outlives the subshell that started it, so corral, the
  // subreaper, reaps it; the child waits until then (a zombie's /proc entry
  // stays until it is reaped).
  const std::vector<std::string> orphan = {
      "/bin/sh", "-c",
      "(sleep 0.1 & echo $! > " + dir_ + "/orphan); p=$(cat " + dir_ +
          "/orphan); while [ -e /proc/$p ]; do sleep 0.01; done"};
  for (bool warn : {false, true}) {
    auto p =
        Run(tini(),
            warn ? std::vector<std::string>{"-w"} : std::vector<std::string>{},
            orphan);
    ASSERT_EQ(p->WaitExit(20s), 0) << p->Logs();
    auto lines = p->LogsWithMsg("reaped orphaned process");
    ASSERT_EQ(lines.size(), warn ? 1u : 0u) << p->Logs();
    if (warn) {
      EXPECT_EQ(lines[0].value("level", ""), "warn");
    }
  }
}

// Bad usage is refused as each program refuses it: exit 1, getopt's
// message on stderr, nothing run.
TEST_F(InitCompatTest, UnknownFlagsRefusedAsEachProgramRefusesThem) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {tini(), {"-x"}, tini() + ": invalid option -- 'x'\n"},
           {tini(), {"-p", "TERM"}, "tini: not a valid option for -p: TERM"},
           {tini(), {"-e", "300"}, "tini: not a valid option for -e: 300"},
           {dumb_init(),
            {"--bogus"},
            dumb_init() + ": unrecognized option '--bogus'\n"},
           {dumb_init(),
            {"-r", "15"},
            "Usage: -r option takes <signum>:<signum>"},
       }) {
    auto p = Run(c.program, c.args, {"/bin/sh", "-c", "echo ran"});
    EXPECT_EQ(p->WaitExit(10s), 1) << p->Logs();
    EXPECT_EQ(p->Logs().rfind(c.message, 0), 0u) << p->Logs();
    EXPECT_EQ(p->Stdout(), "") << "the command ran";
  }
  // Help: tini's on stdout, dumb-init's on stderr; both exit 0.
  auto tini_help = Run(tini(), {"-h"}, {"true"});
  EXPECT_EQ(tini_help->WaitExit(10s), 0);
  EXPECT_NE(tini_help->Stdout().find("Usage: tini"), std::string::npos);
  auto dumb_help = Run(dumb_init(), {"--help"}, {"true"});
  EXPECT_EQ(dumb_help->WaitExit(10s), 0);
  EXPECT_NE(dumb_help->Logs().find("--single-child"), std::string::npos);
}

// A job stopped from the terminal at an interactive shell (^Z) gives the
// shell its prompt back, and fg continues it, as under dumb-init: corral
// stops itself when its child stops so, whatever name it runs under.
TEST_F(InitCompatTest, AtAShellCtrlZStopsTheJobAndFgContinuesIt) {
  const std::string script =
      std::string(CORRAL_E2E_APPS) + "/pty_shell_suspend.py";
  for (const std::vector<std::string>& line :
       std::vector<std::vector<std::string>>{
           {CORRAL_BIN, "--"},
           {tini(), "--"},
           {dumb_init()},
           {dumb_init(), "-c"},
       }) {
    std::string cmd = "python3 '" + script + "'";
    for (const std::string& a : line) cmd += " '" + a + "'";
    const std::string out = dir_ + "/pty-out";
    int rc = std::system((cmd + " > " + out + " 2>&1").c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd << "\n"
                                                       << ReadFile(out);
  }
}

// dumb-init's rule for TSTP, TTIN and TTOU sent to it: pass it on (as
// STOP to the group unless -c or -r says otherwise), then stop itself, so
// the shell that started it sees a stopped job; CONT continues both.
TEST_F(InitCompatTest, DumbInitStopsItselfOnTheTerminalsStopSignals) {
  for (bool single_child : {false, true}) {
    fs::remove(marks());
    auto p = Run(dumb_init(),
                 single_child ? std::vector<std::string>{"-c"}
                              : std::vector<std::string>{},
                 Recorder("trap 'echo CONT >> " + marks() +
                          "' CONT; trap 'echo TSTP >> " + marks() +
                          "' TSTP TTIN TTOU;"));
    ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s))
        << p->Logs();
    int continued = 0;
    for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) {
      p->Signal(sig);
      EXPECT_TRUE(
          PollUntil([&]() { return State(p->master_pid()) == 'T'; }, 10s))
          << SignalName(sig) << " -c:" << single_child << p->Logs();
      p->Signal(SIGCONT);
      ++continued;
      EXPECT_TRUE(PollUntil([&]() { return Count("CONT") == continued; }, 10s))
          << SignalName(sig) << " -c:" << single_child << p->Logs();
      EXPECT_NE(State(p->master_pid()), 'T');
    }
    // With -c the child got each as it is (its trap may run after the
    // CONT's: sh runs pending ones in signal order); otherwise each was a
    // STOP.
    if (single_child) {
      EXPECT_TRUE(PollUntil([&]() { return Count("TSTP") == 3; }, 10s));
    } else {
      EXPECT_EQ(Count("TSTP"), 0);
    }
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  }
}

// tini ignores SIGTTIN and SIGTTOU sent to it; dumb-init passes them on.
TEST_F(InitCompatTest, TiniDropsTtinAndTtouSentToIt) {
  for (const std::string& program : {tini(), dumb_init()}) {
    fs::remove(marks());
    auto p = Run(program,
                 program == tini() ? std::vector<std::string>{}
                                   : std::vector<std::string>{"-c"},
                 Recorder("trap 'echo TTY >> " + marks() + "' TTIN TTOU;"));
    ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s))
        << p->Logs();
    for (int sig : {SIGTTIN, SIGTTOU}) {
      p->Signal(sig);
      if (program == dumb_init()) {
        // It stops itself after each: continued once it has.
        ASSERT_TRUE(
            PollUntil([&]() { return State(p->master_pid()) == 'T'; }, 10s))
            << p->Logs();
        p->Signal(SIGCONT);
      }
    }
    // WINCH comes after TTIN and TTOU, in time and in number (sh runs
    // pending traps in signal order): once it is marked, they would be.
    p->Signal(SIGWINCH);
    ASSERT_TRUE(PollUntil([&]() { return Marked("WINCH"); }, 10s))
        << program << p->Logs();
    EXPECT_EQ(Count("TTY"), program == tini() ? 0 : 2) << program;
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  }
}

// dumb-init holds no directory busy: before the child starts (in the
// directory dumb-init was started in), its own working directory is /.
TEST_F(InitCompatTest, DumbInitLeavesItsWorkingDirectoryForTheRoot) {
  const std::string here = fs::current_path().string();
  ASSERT_NE(here, "/");
  for (const std::string& program : {dumb_init(), tini()}) {
    fs::remove(marks());
    // The child's first look at its parent's, as early as it can.
    auto p = Run(program, {},
                 Recorder("readlink /proc/$PPID/cwd >> " + marks() +
                          "; pwd >> " + marks() + ";"));
    ASSERT_TRUE(PollUntil([&]() { return Marked("started"); }, 10s))
        << p->Logs();
    EXPECT_TRUE(Marked(here)) << "the child's working directory";
    EXPECT_EQ(Count(here), program == dumb_init() ? 1 : 2)
        << program << " as the child first saw it";
    const std::string own =
        fs::read_symlink("/proc/" + std::to_string(p->master_pid()) + "/cwd");
    EXPECT_EQ(own, program == dumb_init() ? "/" : here) << program;
    p->Signal(SIGTERM);
    EXPECT_EQ(p->WaitExit(10s), 0) << p->Logs();
  }
}

// corral's own names for them belong to the init shape: with --listen
// they are refused, saying why.
TEST_F(InitCompatTest, CorralsInitFlagsAreRefusedWithListen) {
  for (const char* flag : {"--success-exit-codes=3", "--rewrite-signal=HUP:0",
                           "--parent-death-signal=TERM", "--process-group"}) {
    ProcessOptions options = InitOptions({"true"}, {flag}, false);
    options.listen = true;
    auto p = InitWith(std::move(options));
    EXPECT_EQ(p->WaitExit(10s), 2) << flag << p->Logs();
    EXPECT_NE(p->Logs().find("is for the init shape only"), std::string::npos)
        << p->Logs();
  }
}

}  // namespace
}  // namespace corral::e2e
