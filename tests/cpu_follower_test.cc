#include "master/cpu_follower.h"

#include <gtest/gtest.h>

namespace corral::master {
namespace {

constexpr int64_t kSec = 1000000000;

class FakeClock : public clock::Clock {
 public:
  int64_t Now() const override { return now; }
  int64_t UnixNow() const override { return now; }
  int64_t now = 1000 * kSec;
};

TEST(CpuFollowerTest, ReadsEveryIntervalAndReportsOnlyAChangedCount) {
  FakeClock clock;
  int reads = 0;
  cpu::CpuCount seen = cpu::Derive(8, 2.0, "cpu.max");
  CpuFollower follower(
      seen,
      [&]() {
        ++reads;
        return seen;
      },
      clock, absl::Seconds(2));
  EXPECT_FALSE(follower.Poll().has_value());
  EXPECT_EQ(reads, 0) << "not before the interval";
  clock.now += 2 * kSec;
  EXPECT_FALSE(follower.Poll().has_value()) << "same count";
  EXPECT_EQ(reads, 1);
  EXPECT_FALSE(follower.Poll().has_value());
  EXPECT_EQ(reads, 1) << "at most once per interval";

  seen = cpu::Derive(8, 3.5, "cpu.max");
  clock.now += 2 * kSec;
  std::optional<cpu::CpuCount> changed = follower.Poll();
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->workers, 4);
  EXPECT_EQ(follower.current().workers, 4);

  // 3.9 CPUs is still 4 workers: nothing to do.
  seen = cpu::Derive(8, 3.9, "cpu.max");
  clock.now += 2 * kSec;
  EXPECT_FALSE(follower.Poll().has_value());
  EXPECT_DOUBLE_EQ(*follower.current().quota_cpus, 3.9);

  // The quota removed: the affinity.
  seen = cpu::Derive(8, std::nullopt, "");
  clock.now += 2 * kSec;
  changed = follower.Poll();
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(changed->workers, 8);
}

}  // namespace
}  // namespace corral::master
