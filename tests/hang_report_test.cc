#include "master/hang_report.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <string>

namespace corral::master {
namespace {

std::string ProcFixture() { return std::string(CORRAL_FIXTURES) + "/proc"; }

TEST(HangReportTest, NamesCommonSystemCalls) {
  const std::string n = std::to_string(SYS_futex);
  EXPECT_EQ(DescribeSyscall(n + " 0x7f 0x80 0x0 0x0 0x0 0x0 0x7ffe 0x7fd3\n"),
            "futex (" + n + ")");
  EXPECT_EQ(DescribeSyscall("99999 0x0"), "syscall 99999");
  EXPECT_EQ(DescribeSyscall("running\n"), "running");
  EXPECT_EQ(DescribeSyscall("-1 0x7ffe 0x7fd3"), "-1");
}

TEST(HangReportTest, ASleepingWorkerShowsWhereItSleeps) {
  nlohmann::json d = DescribeProcess(ProcFixture(), 100);
  EXPECT_EQ(d["state"], "S");
  EXPECT_EQ(d["wchan"], "hrtimer_nanosleep");
  EXPECT_NE(d["syscall"].get<std::string>().find("(230)"), std::string::npos)
      << d;
  ASSERT_EQ(d["kernel_stack"].size(), 3u) << d;
  EXPECT_EQ(d["kernel_stack"][0], "hrtimer_nanosleep+0xb5/0x130");
}

TEST(HangReportTest, ABusyLoopIsRunningWithNoStack) {
  // A comm with spaces and a ')' of its own: the state follows the last.
  nlohmann::json d = DescribeProcess(ProcFixture(), 101);
  EXPECT_EQ(d["state"], "R");
  EXPECT_EQ(d["wchan"], "0");
  EXPECT_EQ(d["syscall"], "running");
  EXPECT_FALSE(d.contains("kernel_stack")) << "unreadable: left out";
}

TEST(HangReportTest, AGoneProcessGivesNothing) {
  EXPECT_TRUE(DescribeProcess(ProcFixture(), 999999).empty());
}

}  // namespace
}  // namespace corral::master
