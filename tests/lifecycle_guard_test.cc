#include <gtest/gtest.h>

#include "master/memory_guard.h"
#include "master/recycle_limits.h"

namespace corral::master {
namespace {

constexpr int64_t kMiB = 1 << 20;
constexpr int64_t kSec = 1000000000;

memory::MemoryFigures Figures(int64_t working_set_mib, int64_t limit_mib) {
  memory::MemoryFigures f;
  f.limit_bytes = limit_mib * kMiB;
  f.usage_bytes = working_set_mib * kMiB + 10 * kMiB;
  f.inactive_file_bytes = 10 * kMiB;  // page cache is not the working set
  return f;
}

// The tests' figures are against 0.9 of a 300 MiB limit: 270 MiB.
const MemoryGuardConfig kAt90{.threshold = 0.9};

std::vector<WorkerMemory> Workers(std::vector<int64_t> mib) {
  std::vector<WorkerMemory> out;
  for (size_t i = 0; i < mib.size(); ++i) {
    out.push_back(
        {0, static_cast<pid_t>(100 + i), static_cast<int>(i), mib[i] * kMiB});
  }
  return out;
}

TEST(MemoryGuardTest, QuietBelowTheThreshold) {
  MemoryGuard g(kAt90);
  EXPECT_FALSE(g.Check(Figures(269, 300), Workers({130, 120}), false, 0));
}

TEST(MemoryGuardTest, RecyclesTheLargestReplacementFirstWhenThereIsRoom) {
  MemoryGuard g(kAt90);
  // 270 of 300 MiB: 30 MiB left holds a new worker the size of the
  // smallest (20 MiB), and a quarter more.
  auto r = g.Check(Figures(270, 300), Workers({20, 200, 50}), false, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->worker.pid, 101);
  EXPECT_EQ(r->order, RecycleOrder::kReplacementFirst);
  EXPECT_NE(r->why.find("200.0 MiB"), std::string::npos) << r->why;
}

TEST(MemoryGuardTest, DrainFirstWhenTheLimitHasNoRoomForANewWorker) {
  MemoryGuard g(kAt90);
  auto r = g.Check(Figures(290, 300), Workers({140, 150}), false, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->worker.pid, 101);
  EXPECT_EQ(r->order, RecycleOrder::kDrainFirst);
  EXPECT_NE(r->why.find("too little for a new worker"), std::string::npos)
      << r->why;
}

TEST(MemoryGuardTest, AMeasuredFreshWorkerDecidesTheOrder) {
  MemoryGuard g(kAt90);
  // 30 MiB left: room for a 20 MiB worker, not for a 25 MiB one and its
  // quarter more.
  auto r = g.Check(Figures(270, 300), Workers({20, 200}), false, 0, 25 * kMiB);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->order, RecycleOrder::kDrainFirst);
}

// Feeds the guard one read every 50 ms for a second, the working set rising
// from `from_mib` by `mib_per_second`, below its threshold; returns the time
// of the last read.
int64_t GrowForASecond(MemoryGuard& g, int64_t from_mib, int64_t mib_per_second,
                       int64_t now) {
  for (int tick = 0; tick <= 20; ++tick) {
    EXPECT_FALSE(g.Check(Figures(from_mib + mib_per_second * tick / 20, 300),
                         Workers({20, 100}), false, now));
    if (tick < 20) now += kSec / 20;
  }
  return now;
}

TEST(MemoryGuardTest,
     DrainFirstWhenTheWorkingSetOutgrowsTheRoomDuringAReplacement) {
  // 30 MiB left holds a 20 MiB worker and its quarter more, but not what a
  // leak of 100 MiB/s adds in twice the quarter second a replacement takes
  // to start and its old worker to drain: 50 MiB.
  MemoryGuard g(kAt90);
  int64_t now = GrowForASecond(g, 150, 100, 10 * kSec);
  EXPECT_EQ(g.GrowthDuring(absl::Milliseconds(500)), 50 * kMiB);
  EXPECT_EQ(g.ReplacementGrowth(absl::Milliseconds(250)), 50 * kMiB);
  auto r = g.Check(Figures(270, 300), Workers({20, 200}), false,
                   now + kSec / 20, 20 * kMiB, absl::Milliseconds(250));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->order, RecycleOrder::kDrainFirst);
  EXPECT_NE(r->why.find("50.0 MiB the working set may grow until the old "
                        "one is gone"),
            std::string::npos)
      << r->why;
}

TEST(MemoryGuardTest, ReplacementFirstWhenTheRoomOutlastsTheReplacement) {
  // The same leak, but a replacement done in 20 ms: 4 MiB of growth with
  // the margin, and 25 + 4 MiB fit in 30.
  MemoryGuard g(kAt90);
  int64_t now = GrowForASecond(g, 150, 100, 10 * kSec);
  auto r = g.Check(Figures(270, 300), Workers({20, 200}), false,
                   now + kSec / 20, 20 * kMiB, absl::Milliseconds(20));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->order, RecycleOrder::kReplacementFirst) << r->why;
}

TEST(MemoryGuardTest, AWorkerExitingDoesNotHideTheGrowth) {
  // 5 MiB a read for a second, with a 90 MiB drop (a worker gone) halfway:
  // the rate is the rises', not the net change.
  MemoryGuard g(kAt90);
  int64_t now = 10 * kSec;
  int64_t mib = 150;
  for (int tick = 0; tick <= 20; ++tick) {
    if (tick > 0) mib += 5;
    if (tick == 10) mib -= 90;
    EXPECT_FALSE(g.Check(Figures(mib, 300), Workers({20, 100}), false, now));
    if (tick < 20) now += kSec / 20;
  }
  // 19 rises of 5 MiB: the read with the drop shows none.
  EXPECT_EQ(g.GrowthDuring(absl::Seconds(1)), 95 * kMiB);
  // A still working set: the fastest of the last 5 windows still counts
  // for 4 more, then it is forgotten.
  for (int window = 1; window <= 5; ++window) {
    for (int tick = 0; tick < 20; ++tick) {
      now += kSec / 20;
      EXPECT_FALSE(g.Check(Figures(mib, 300), Workers({20, 100}), false, now));
    }
    EXPECT_EQ(g.GrowthDuring(absl::Seconds(1)), window < 5 ? 95 * kMiB : 0)
        << "window " << window;
  }
}

TEST(MemoryGuardTest, TheDefaultThresholdIsFourFifthsOfTheLimit) {
  MemoryGuard g({});
  EXPECT_EQ(g.Threshold(Figures(0, 300)), std::optional<int64_t>(240 * kMiB));
}

TEST(MemoryGuardTest, NeverWhileARecycleIsUnderWay) {
  MemoryGuard g(kAt90);
  EXPECT_FALSE(g.Check(Figures(290, 300), Workers({140, 150}), true, 0));
}

TEST(MemoryGuardTest, OffOrWithoutALimitNothingHappens) {
  MemoryGuard off({.threshold = std::nullopt});
  EXPECT_FALSE(off.Check(Figures(299, 300), Workers({290}), false, 0));
  MemoryGuard g(kAt90);
  memory::MemoryFigures unlimited = Figures(299, 300);
  unlimited.limit_bytes.reset();
  EXPECT_FALSE(g.Check(unlimited, Workers({290}), false, 0));
}

TEST(MemoryGuardTest, BacksOffWhenRecyclingDoesNotBringUsageDown) {
  MemoryGuard g(kAt90);
  int64_t now = 100 * kSec;
  ASSERT_TRUE(g.Check(Figures(280, 300), Workers({100, 150}), false, now));
  // The recycle ran (busy), and usage stayed where it was.
  EXPECT_FALSE(g.Check(Figures(280, 300), {}, true, now));
  now += kSec / 4;
  EXPECT_FALSE(g.Check(Figures(280, 300), Workers({100, 20}), false, now));
  EXPECT_EQ(g.current_backoff(), absl::Seconds(2));
  now += 2 * kSec;
  ASSERT_TRUE(g.Check(Figures(280, 300), Workers({100, 20}), false, now));
  now += kSec / 4;
  EXPECT_FALSE(g.Check(Figures(280, 300), Workers({100, 20}), false, now));
  EXPECT_EQ(g.current_backoff(), absl::Seconds(4));  // doubled
  now += 3 * kSec;
  EXPECT_FALSE(g.Check(Figures(280, 300), Workers({100, 20}), false, now));
  now += kSec;
  ASSERT_TRUE(g.Check(Figures(280, 300), Workers({100, 20}), false, now));
  // Usage comes down: the wait is forgotten.
  EXPECT_FALSE(g.Check(Figures(150, 300), Workers({100, 20}), false, now));
  EXPECT_EQ(g.current_backoff(), absl::ZeroDuration());
}

TEST(MemoryGuardTest, NoBackoffWhenARecycleFreedWhatItShould) {
  MemoryGuard g(kAt90);
  ASSERT_TRUE(g.Check(Figures(290, 300), Workers({140, 150}), false, 0));
  // The 150 MiB worker is gone and usage is down to 200 MiB: no wait
  // before the next recycle.
  EXPECT_FALSE(g.Check(Figures(275, 300), {}, true, 0));
  auto r = g.Check(Figures(200, 300), Workers({140, 20}), false, 0);
  EXPECT_FALSE(r.has_value());  // under the threshold now
  r = g.Check(Figures(280, 300), Workers({180, 20}), false, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(g.current_backoff(), absl::ZeroDuration());
}

TEST(RecycleLimitsTest, RequestsWithJitterDrawnOncePerWorker) {
  int draws = 0;
  RecycleLimits limits({.max_requests = 1000, .max_requests_jitter = 50},
                       [&draws](uint64_t n) {
                         ++draws;
                         EXPECT_EQ(n, 50u);
                         return uint64_t{30};
                       });
  EXPECT_FALSE(limits.Check({.pid = 7, .requests = 1029}));
  auto due = limits.Check({.pid = 7, .requests = 1030});
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->reason, pool::RetireReason::kMaxRequests);
  EXPECT_NE(due->why.find("1030"), std::string::npos) << due->why;
  EXPECT_EQ(draws, 1);
  // A worker that is gone is forgotten; a new one draws its own.
  limits.Keep({});
  EXPECT_FALSE(limits.Check({.pid = 7, .requests = 10}));
  EXPECT_EQ(draws, 2);
}

TEST(RecycleLimitsTest, AgeWithJitter) {
  RecycleLimits limits(
      {.max_age = absl::Minutes(10), .max_age_jitter = absl::Minutes(1)},
      [](uint64_t n) {
        EXPECT_EQ(n, 60000u);  // milliseconds
        return uint64_t{30000};
      });
  EXPECT_FALSE(limits.Check({.pid = 1, .age = absl::Seconds(629)}));
  auto due = limits.Check({.pid = 1, .age = absl::Seconds(630)});
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->reason, pool::RetireReason::kMaxAge);
}

TEST(RecycleLimitsTest, WorkerMemoryOverItsLimit) {
  RecycleLimits limits({.max_worker_memory = 100 * kMiB},
                       [](uint64_t) { return uint64_t{0}; });
  EXPECT_FALSE(limits.Check({.pid = 1, .memory_bytes = 100 * kMiB}));
  EXPECT_FALSE(limits.Check({.pid = 1}));  // not measured
  auto due = limits.Check({.pid = 1, .memory_bytes = 101 * kMiB});
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->reason, pool::RetireReason::kWorkerMemory);
}

TEST(RecycleLimitsTest, NoLimitsNothingDue) {
  RecycleLimits limits({}, [](uint64_t) { return uint64_t{0}; });
  EXPECT_FALSE(limits.config().any());
  EXPECT_FALSE(
      limits.Check({.pid = 1, .requests = 1u << 30, .age = absl::Hours(1000)}));
}

}  // namespace
}  // namespace corral::master
