// The log's promises that need the real binary: a warning that repeats every
// few milliseconds while a worker is at its descriptor limit shows once per
// window, and the next line says how many were held back.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "harness.h"

namespace corral::e2e {
namespace {

TEST(LogTest, AWorkerAtItsDescriptorLimitSaysSoOncePerWindowWithACount) {
  // Children inherit the limit: the worker reaches it after a couple of
  // hundred connections, and from then on asks again every few ms.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();

  std::vector<int> held;
  for (int i = 0; i < 400; ++i) {
    int fd = ConnectLoopback(p->port());
    if (fd >= 0) held.push_back(fd);
  }
  const std::string msg =
      "at the descriptor limit; new connections wait in the kernel's queue "
      "for a sibling or for this worker";
  // The first line goes out at once, the next one only after the window,
  // carrying the count of the others.
  bool counted = PollUntil(
      [&]() {
        auto lines = p->LogsWithMsg(msg);
        return lines.size() >= 2;
      },
      30s);
  for (int fd : held) close(fd);
  ASSERT_TRUE(counted) << p->Logs();
  auto lines = p->LogsWithMsg(msg);
  EXPECT_FALSE(lines[0].contains("suppressed")) << lines[0].dump();
  ASSERT_TRUE(lines[1].contains("suppressed")) << lines[1].dump();
  EXPECT_GE(lines[1]["suppressed"].get<int>(), 1) << lines[1].dump();
  EXPECT_EQ(lines[1]["descriptor_limit"], 256);
  // Never past it: the worker stopped accepting before accept() failed.
  EXPECT_TRUE(p->LogsWithMsg("accept failed, retrying shortly").empty())
      << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
