#include "init/init.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace corral {
namespace {

TEST(InitTest, ExitCodesAreTheShellsOnes) {
  EXPECT_EQ(init::ExitCodeOf(0), 0);
  EXPECT_EQ(init::ExitCodeOf(3 << 8), 3);
  EXPECT_EQ(init::ExitCodeOf(255 << 8), 255);
  EXPECT_EQ(init::ExitCodeOf(SIGKILL), 128 + SIGKILL);
  EXPECT_EQ(init::ExitCodeOf(SIGTERM | 0x80), 128 + SIGTERM) << "core dump";
}

TEST(InitTest, EveryCatchableSignalIsPassedOnButTheShutdownOnesDrain) {
  for (int sig : {SIGUSR1, SIGHUP, SIGWINCH, SIGPIPE, SIGXCPU, SIGSTKFLT,
                  SIGTSTP, SIGTTIN, SIGSEGV, SIGRTMIN, SIGRTMAX}) {
    EXPECT_TRUE(init::IsForwarded(sig)) << sig;
  }
  EXPECT_FALSE(init::IsForwarded(SIGTERM));
  EXPECT_FALSE(init::IsForwarded(SIGINT));
  EXPECT_FALSE(init::IsForwarded(SIGCHLD));
  EXPECT_FALSE(init::IsForwarded(SIGKILL));
  EXPECT_FALSE(init::IsForwarded(SIGSTOP));
  EXPECT_FALSE(init::IsForwarded(0));
  EXPECT_FALSE(init::IsForwarded(NSIG));
}

TEST(InitTest, TheTerminalsStopSignalsAreTstpTtinAndTtou) {
  for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) {
    EXPECT_TRUE(init::IsTerminalStop(sig)) << sig;
  }
  for (int sig : {SIGSTOP, SIGCONT, SIGTERM, SIGCHLD, 0}) {
    EXPECT_FALSE(init::IsTerminalStop(sig)) << sig;
  }
}

}  // namespace
}  // namespace corral
