#include "overload/lag_shedder.h"

#include <gtest/gtest.h>

namespace corral::overload {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kTarget = 50 * kMs;
constexpr int64_t kInterval = 1000 * kMs;
constexpr int64_t kPeriod = 10 * kMs;

// A fake clock and the probe's schedule: each probe is due one period
// after the previous one ran, and runs `lag` late (the loop's own work).
class LagShedderTest : public ::testing::Test {
 protected:
  // The first run of the probe, which schedules the next.
  LagShedderTest() {
    shedder_.OnProbe(now_, 0);
    due_ = now_ + kPeriod;
  }

  void Probe(int64_t lag) {
    now_ = due_ + lag;
    shedder_.OnProbe(now_, lag);
    due_ = now_ + kPeriod;
  }
  // Probes `lag` late, back to back, for `span`.
  void ProbeFor(int64_t span, int64_t lag) {
    const int64_t until = now_ + span;
    while (now_ < until) Probe(lag);
  }
  // The loop is `late` past the probe's due time, inside a turn.
  bool AdmitAt(Priority p, int64_t late) {
    return shedder_.Admit(p, due_ + late, late);
  }
  // Behind, with a probe just run and the given classes seen.
  void FallBehind() {
    ProbeFor(kInterval + kPeriod, 2 * kTarget);
    ASSERT_TRUE(shedder_.behind());
  }

  int64_t now_ = 1'000'000 * kMs;
  int64_t due_ = now_;
  LagShedder shedder_{kTarget, kInterval};
};

TEST_F(LagShedderTest, ALoopThatKeepsUpShedsNothing) {
  ProbeFor(10 * kInterval, kTarget / 2);
  EXPECT_FALSE(shedder_.behind());
  EXPECT_EQ(shedder_.lag_ns(), kTarget / 2);
}

TEST_F(LagShedderTest, ABurstShorterThanTheIntervalShedsNothing) {
  ProbeFor(kInterval / 2, 4 * kTarget);
  Probe(0);
  ProbeFor(kInterval / 2, 4 * kTarget);
  EXPECT_FALSE(shedder_.behind());
}

TEST_F(LagShedderTest, BehindOnceTheLagStandsPastTheTargetForAnInterval) {
  ProbeFor(kInterval - 2 * kPeriod, 2 * kTarget);
  EXPECT_FALSE(shedder_.behind());
  ProbeFor(4 * kPeriod, 2 * kTarget);
  EXPECT_TRUE(shedder_.behind());
}

TEST_F(LagShedderTest, OneTurnLongerThanTheIntervalIsBehindAtOnce) {
  // The probe ran 1.2 s late: the loop was past the target all that time.
  Probe(1200 * kMs);
  EXPECT_TRUE(shedder_.behind());
}

TEST_F(LagShedderTest, TheMarginalClassIsShedOnlyWhileTheLoopIsLate) {
  FallBehind();
  // Early in a turn the loop is on time: the request is served.
  EXPECT_TRUE(AdmitAt(Priority::kNormal, 0));
  EXPECT_TRUE(AdmitAt(Priority::kNormal, kTarget - 1));
  // Past the target the rest of the turn's reads are shed.
  EXPECT_FALSE(AdmitAt(Priority::kNormal, kTarget));
  EXPECT_FALSE(AdmitAt(Priority::kNormal, 5 * kTarget));
}

TEST_F(LagShedderTest, AClassAboveTheMarginalOneIsServedHoweverLate) {
  FallBehind();
  EXPECT_FALSE(AdmitAt(Priority::kNormal, kTarget));
  EXPECT_TRUE(AdmitAt(Priority::kHigh, kTarget));
  EXPECT_TRUE(AdmitAt(Priority::kHigh, 20 * kTarget));
}

TEST_F(LagShedderTest, TheLowestClassSeenIsTheMarginalOne) {
  FallBehind();
  EXPECT_FALSE(AdmitAt(Priority::kLow, kTarget));
  // With low requests arriving, normal ones are served.
  EXPECT_TRUE(AdmitAt(Priority::kNormal, kTarget));
  EXPECT_TRUE(AdmitAt(Priority::kHigh, kTarget));
  // Once none has come for an interval, normal is the marginal class.
  ProbeFor(kInterval, 2 * kTarget);
  EXPECT_FALSE(AdmitAt(Priority::kNormal, kTarget));
}

TEST_F(LagShedderTest, TheFloorRisesWhenHigherClassesAloneKeepTheLoopLate) {
  FallBehind();
  // Every normal request comes while the loop is late, for an interval.
  const int64_t until = now_ + kInterval + kPeriod;
  while (now_ < until) {
    EXPECT_FALSE(AdmitAt(Priority::kNormal, kTarget));
    EXPECT_TRUE(AdmitAt(Priority::kHigh, kTarget));
    Probe(2 * kTarget);
  }
  EXPECT_EQ(shedder_.floor(), Priority::kHigh);
  // Now normal is shed outright and high only while the loop is late.
  EXPECT_FALSE(AdmitAt(Priority::kNormal, 0));
  EXPECT_TRUE(AdmitAt(Priority::kHigh, 0));
  EXPECT_FALSE(AdmitAt(Priority::kHigh, kTarget));
}

TEST_F(LagShedderTest, TheFloorStaysWhileTheMarginalClassIsServedEachTurn) {
  FallBehind();
  const int64_t until = now_ + 3 * kInterval;
  while (now_ < until) {
    // Each turn serves normal requests until the loop is late, then sheds.
    EXPECT_TRUE(AdmitAt(Priority::kNormal, 0));
    EXPECT_FALSE(AdmitAt(Priority::kNormal, kTarget));
    EXPECT_TRUE(AdmitAt(Priority::kHigh, kTarget));
    Probe(kTarget + kPeriod);
  }
  EXPECT_TRUE(shedder_.behind());
  EXPECT_EQ(shedder_.floor(), Priority::kLow);
}

TEST_F(LagShedderTest, CatchesUpOneClassPerIntervalOnTime) {
  FallBehind();
  const int64_t until = now_ + kInterval + kPeriod;
  while (now_ < until) {
    AdmitAt(Priority::kNormal, kTarget);
    AdmitAt(Priority::kHigh, kTarget);
    Probe(2 * kTarget);
  }
  ASSERT_EQ(shedder_.floor(), Priority::kHigh);
  ProbeFor(kInterval / 2, 0);
  EXPECT_EQ(shedder_.floor(), Priority::kHigh);  // a moment is not enough
  ProbeFor(kInterval / 2 + kPeriod, 0);
  EXPECT_EQ(shedder_.floor(), Priority::kNormal);
  ProbeFor(kInterval + kPeriod, 0);
  EXPECT_EQ(shedder_.floor(), Priority::kLow);
  EXPECT_TRUE(shedder_.behind());
  ProbeFor(kInterval + kPeriod, 0);
  EXPECT_FALSE(shedder_.behind());
}

TEST_F(LagShedderTest, ALateProbeRestartsTheWayBack) {
  FallBehind();
  ProbeFor(kInterval - 2 * kPeriod, 0);
  Probe(kTarget);
  ProbeFor(kInterval - 2 * kPeriod, 0);
  EXPECT_TRUE(shedder_.behind());
}

}  // namespace
}  // namespace corral::overload
