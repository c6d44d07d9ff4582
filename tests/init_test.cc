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

TEST(InitTest, ShutdownSignalsDrainInsteadOfPassingOn) {
  EXPECT_TRUE(init::IsForwarded(SIGUSR1));
  EXPECT_TRUE(init::IsForwarded(SIGHUP));
  EXPECT_TRUE(init::IsForwarded(SIGWINCH));
  EXPECT_FALSE(init::IsForwarded(SIGTERM));
  EXPECT_FALSE(init::IsForwarded(SIGCHLD));
  EXPECT_FALSE(init::IsForwarded(SIGPIPE));
}

}  // namespace
}  // namespace corral
