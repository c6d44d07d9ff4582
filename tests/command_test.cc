#include <gtest/gtest.h>
#include <signal.h>

#include "command/command_workers.h"
#include "init/init.h"

namespace corral {
namespace {

TEST(CommandTest, NotifyMessagesSplitIntoAssignments) {
  auto f = command::ParseNotify("READY=1\nSTATUS=warming up: 3/5\n\nnoise");
  EXPECT_EQ(f.size(), 2u);
  EXPECT_EQ(f["READY"], "1");
  EXPECT_EQ(f["STATUS"], "warming up: 3/5");
  EXPECT_EQ(command::ParseNotify("WATCHDOG=1")["WATCHDOG"], "1");
}

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

}  // namespace
}  // namespace corral
