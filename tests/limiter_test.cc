#include "overload/limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace corral::overload {
namespace {

constexpr int64_t kMs = 1'000'000;

// Drives a limiter with a fake clock: requests of a given latency, as many
// as it allows, window after window.
class LimiterTest : public ::testing::Test {
 protected:
  LimiterSettings Settings() {
    LimiterSettings s;
    s.min_limit = 3;
    s.max_limit = 200;
    s.window_ns = 100 * kMs;
    s.min_samples = 5;
    s.probe_samples = 20;
    s.first_probe_ns = 0;  // most tests start from a probe
    s.probe_every_ns = 30'000 * kMs;
    s.windows_at_min = 5;
    s.allowance_ns = 0;  // the tests that want one say so
    return s;
  }

  // `n` requests answered in `latency_ms` each, sent now; the clock moves
  // on by the latency.
  void Answer(GradientLimiter& limiter, int n, int64_t latency_ms) {
    const int64_t sent = now_;
    now_ += latency_ms * kMs;
    for (int i = 0; i < n; ++i) limiter.OnSample(sent, now_);
  }
  // Finishes the probe with requests of `latency_ms`.
  void Probe(GradientLimiter& limiter, int64_t latency_ms) {
    ASSERT_TRUE(limiter.probing());
    limiter.Update(now_, limiter.limit());  // nothing else in flight
    Answer(limiter, 20, latency_ms);
    limiter.Update(now_, limiter.limit());
    ASSERT_FALSE(limiter.probing());
  }
  // One window of requests at `latency_ms`; returns the new limit.
  int Window(GradientLimiter& limiter, int64_t latency_ms) {
    Answer(limiter, 10, latency_ms);
    now_ += 100 * kMs;
    return limiter.Update(now_, limiter.limit());
  }

  int64_t now_ = 5'000'000 * kMs;
};

TEST_F(LimiterTest, StartsByMeasuringMinRttAtTheMinimumLimit) {
  GradientLimiter limiter(Settings(), now_);
  EXPECT_TRUE(limiter.probing());
  EXPECT_EQ(limiter.limit(), 3);
  limiter.Update(now_, limiter.limit());
  Answer(limiter, 19, 10);
  EXPECT_EQ(limiter.Update(now_, limiter.limit()), 3)
      << "the probe needs 20 answers";
  EXPECT_TRUE(limiter.probing());
  Answer(limiter, 1, 10);
  limiter.Update(now_, limiter.limit());
  EXPECT_FALSE(limiter.probing());
  EXPECT_EQ(limiter.min_rtt_ns(), 10 * kMs);
}

TEST_F(LimiterTest, ByDefaultItStartsInSlowStartAndProbesOnceWarm) {
  LimiterSettings s = Settings();
  s.first_probe_ns = 2000 * kMs;
  GradientLimiter limiter(s, now_);
  EXPECT_FALSE(limiter.probing());
  EXPECT_EQ(limiter.limit(), 3);
  // Round trips: doubling until 20 answers (probe_samples) are in...
  for (int want : {6, 12}) {
    Answer(limiter, std::max(limiter.limit(), 5), 10);
    EXPECT_EQ(limiter.Update(now_, limiter.limit()), want);
  }
  Answer(limiter, 12, 10);
  EXPECT_EQ(limiter.Update(now_, limiter.limit()), 12);
  // ...whose median stands in for minRTT until the first probe.
  EXPECT_EQ(limiter.min_rtt_ns(), 10 * kMs);
  now_ += 2000 * kMs;
  Window(limiter, 10);
  EXPECT_TRUE(limiter.probing()) << "warm now: a real minRTT";
}

TEST_F(LimiterTest, ItGrowsOnlyAsFarAsTheRequestsTestedIt) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  // 16 requests at a time, answered at minRTT, window after window.
  for (int i = 0; i < 30; ++i) {
    Answer(limiter, 10, 10);
    now_ += 100 * kMs;
    limiter.Update(now_, std::min(limiter.limit(), 16));
  }
  EXPECT_LE(limiter.limit(), 32) << "16 at a time say nothing of 200";
  EXPECT_GE(limiter.limit(), 16);
}

TEST_F(LimiterTest, ASeededLimiterStartsWhereItsSiblingIs) {
  LimiterSettings s = Settings();
  s.first_probe_ns = 2000 * kMs;
  GradientLimiter limiter(s, now_);
  limiter.Seed(40, {0, 10 * kMs, 0});
  EXPECT_EQ(limiter.limit(), 40);
  EXPECT_EQ(limiter.min_rtt_ns(), 10 * kMs);
  EXPECT_GT(Window(limiter, 10), 40) << "the gradient, from there";
}

TEST_F(LimiterTest, ASlowAppsProbeEndsAfterAWindowOfFewerAnswers) {
  GradientLimiter limiter(Settings(), now_);
  limiter.Update(now_, limiter.limit());
  Answer(limiter, 6, 100);  // 100 ms: the window has passed
  limiter.Update(now_, 3);
  EXPECT_FALSE(limiter.probing());
  EXPECT_EQ(limiter.min_rtt_ns(), 100 * kMs);
}

TEST_F(LimiterTest, TheProbeWaitsForTheQueueBeforeItToDrain) {
  GradientLimiter limiter(Settings(), now_);
  // 40 requests were in flight when the probe began: sent while they
  // were, a request meets their queue.
  limiter.Update(now_, 40);
  Answer(limiter, 30, 200);
  limiter.Update(now_, 10);
  Answer(limiter, 30, 80);
  EXPECT_EQ(limiter.Update(now_, 3), 3);
  EXPECT_TRUE(limiter.probing()) << "nothing sent after the queue drained";
  Answer(limiter, 20, 10);
  limiter.Update(now_, limiter.limit());
  EXPECT_FALSE(limiter.probing());
  EXPECT_EQ(limiter.min_rtt_ns(), 10 * kMs);
}

TEST_F(LimiterTest, FromTheMinimumItDoublesEachRoundTripUntilAQueueShows) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  // A round trip: as many answers as places, well inside a window.
  for (int want : {6, 12, 24, 48}) {
    Answer(limiter, std::max(limiter.limit(), 5), 10);
    EXPECT_EQ(limiter.Update(now_, limiter.limit()), want);
  }
  // The first queueing ends it: from here the gradient, a window at a time.
  Answer(limiter, 48, 20);
  const int queued = limiter.Update(now_, limiter.limit());
  EXPECT_LT(queued, 48);
  Answer(limiter, queued, 10);
  EXPECT_EQ(limiter.Update(now_, limiter.limit()), queued)
      << "no window has passed";
  now_ += 100 * kMs;
  EXPECT_LT(limiter.Update(now_, limiter.limit()), 2 * queued);
}

TEST_F(LimiterTest, GrowsToItsBoundWhileLatencyStaysAtMinRtt) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  int last = limiter.limit();
  int windows = 0;
  while (limiter.limit() < 200 && windows < 50) {
    const int limit = Window(limiter, 10);
    EXPECT_GT(limit, last) << "window " << windows;
    last = limit;
    ++windows;
  }
  EXPECT_EQ(limiter.limit(), 200);
  EXPECT_LE(windows, 15) << "x1.25 and a headroom a window: 1.5 s";
  EXPECT_EQ(Window(limiter, 10), 200) << "never past the bound";
}

TEST_F(LimiterTest, ShrinksWithinAFewWindowsWhenTheAppSlows) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  for (int i = 0; i < 20; ++i) Window(limiter, 10);
  ASSERT_EQ(limiter.limit(), 200);
  // Ten times slower: requests queue in the app.
  int windows = 0;
  while (limiter.limit() > 3 && windows < 20) {
    const int before = limiter.limit();
    const int after = Window(limiter, 100);
    // Halfway to the gradient's half each window: to three quarters.
    EXPECT_LE(after, before * 3 / 4 + static_cast<int>(std::sqrt(before)) + 1);
    ++windows;
  }
  EXPECT_LE(windows, 20) << "from the bound to the minimum within 2 s";
}

TEST_F(LimiterTest, SettlesWhereLatencyIsMinRttPlusTheBuffer) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  // An app with 4 requests' worth of parallelism: past 4 in flight, each
  // request queues behind the others.
  auto latency = [](int in_flight) -> int64_t {
    return in_flight <= 4 ? 10 : 10 * in_flight / 4;
  };
  for (int i = 0; i < 100; ++i) Window(limiter, latency(limiter.limit()));
  EXPECT_GE(limiter.limit(), 4);
  EXPECT_LE(limiter.limit(), 12);
}

TEST_F(LimiterTest, MeasuresMinRttAgainWhenStuckAtTheMinimum) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  int windows = 0;
  while (!limiter.probing() && windows < 30) {
    Window(limiter, 100);
    ++windows;
  }
  ASSERT_TRUE(limiter.probing()) << "the app got slower for good";
  Probe(limiter, 100);
  EXPECT_EQ(limiter.min_rtt_ns(), 100 * kMs);
  // At its new speed, nothing queues: the limit grows again.
  const int at_min = limiter.limit();
  EXPECT_GT(Window(limiter, 100), at_min);
}

TEST_F(LimiterTest, RecoversWhenTheAppSpeedsUpAgain) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 100);  // measured while slow
  ASSERT_EQ(limiter.limit(), 3);
  int windows = 0;
  while (limiter.limit() < 200 && windows < 30) {
    Window(limiter, 10);
    ++windows;
  }
  EXPECT_EQ(limiter.limit(), 200);
  EXPECT_LE(windows, 15);
}

TEST_F(LimiterTest, AFasterAppIsMeasuredAgainSoNoQueueFormsInIt) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 100);  // measured while slow
  // Fast again, 4 requests' worth of parallelism: 20 ms up to 4 in flight.
  auto latency = [](int in_flight) -> int64_t {
    return in_flight <= 4 ? 20 : 20 * in_flight / 4;
  };
  int windows = 0;
  while (!limiter.probing() && windows < 20) {
    Window(limiter, latency(limiter.limit()));
    ++windows;
  }
  ASSERT_TRUE(limiter.probing());
  Probe(limiter, 20);
  for (int i = 0; i < 50; ++i) Window(limiter, latency(limiter.limit()));
  EXPECT_EQ(limiter.min_rtt_ns(), 20 * kMs);
  EXPECT_LE(limiter.limit(), 12) << "a queue of the old minRTT's length";
}

TEST_F(LimiterTest, OneFastWindowIsNoReasonToMeasureAgain) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 20);
  for (int i = 0; i < 30; ++i) {
    Window(limiter, i % 3 == 0 ? 5 : 20);
    EXPECT_FALSE(limiter.probing()) << "window " << i;
  }
}

TEST_F(LimiterTest, MeasuresMinRttAgainPeriodicallyAndKeepsItsLimit) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  for (int i = 0; i < 20; ++i) Window(limiter, 10);
  ASSERT_EQ(limiter.limit(), 200);
  now_ += 30'000 * kMs;
  Window(limiter, 10);
  ASSERT_TRUE(limiter.probing());
  EXPECT_EQ(limiter.limit(), 3) << "pinned while it measures";
  Probe(limiter, 20);
  EXPECT_EQ(limiter.min_rtt_ns(), 20 * kMs);
  EXPECT_EQ(limiter.limit(), 200) << "back where it was";
}

TEST_F(LimiterTest, AWindowWithTooFewAnswersLeavesTheLimit) {
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 10);
  const int before = limiter.limit();
  Answer(limiter, 4, 100);
  now_ += 1000 * kMs;
  EXPECT_EQ(limiter.Update(now_, limiter.limit()), before);
}

TEST_F(LimiterTest, ABoundBelowTheMinimumWins) {
  LimiterSettings s = Settings();
  s.max_limit = 1;  // --app-concurrency=1: an app that cannot interleave
  GradientLimiter limiter(s, now_);
  EXPECT_EQ(limiter.limit(), 1);
  Probe(limiter, 10);
  EXPECT_EQ(Window(limiter, 10), 1);
}

TEST_F(LimiterTest, EachClassHasAMinRttOfItsOwn) {
  GradientLimiter limiter(Settings(), now_);
  limiter.Update(now_, limiter.limit());
  // A probe of pages (1 ms) and checkouts waiting 50 ms on their payment.
  const int64_t sent = now_;
  now_ += 50 * kMs;
  for (int i = 0; i < 15; ++i) limiter.OnSample(sent, sent + kMs);
  for (int i = 0; i < 5; ++i) {
    limiter.OnSample(sent, now_, Priority::kHigh);
  }
  limiter.Update(now_, limiter.limit());
  ASSERT_FALSE(limiter.probing());
  EXPECT_EQ(limiter.min_rtts()[static_cast<int>(Priority::kNormal)], kMs);
  EXPECT_EQ(limiter.min_rtts()[static_cast<int>(Priority::kHigh)], 50 * kMs);
  EXPECT_EQ(limiter.min_rtt_ns(), kMs) << "the smallest";
}

TEST_F(LimiterTest, AProbeOfOnlyCheckoutsLeavesThePagesMinRtt) {
  // Behind a standing queue the highest class leaves it first, so a probe
  // may see nothing but checkouts.
  GradientLimiter limiter(Settings(), now_);
  Probe(limiter, 1);
  now_ += 30'000 * kMs;
  Window(limiter, 1);
  ASSERT_TRUE(limiter.probing());
  limiter.Update(now_, limiter.limit());
  const int64_t sent = now_;
  now_ += 50 * kMs;
  for (int i = 0; i < 20; ++i) limiter.OnSample(sent, now_, Priority::kHigh);
  limiter.Update(now_, limiter.limit());
  ASSERT_FALSE(limiter.probing());
  EXPECT_EQ(limiter.min_rtts()[static_cast<int>(Priority::kNormal)], kMs);
  EXPECT_EQ(limiter.min_rtts()[static_cast<int>(Priority::kHigh)], 50 * kMs);
}

TEST_F(LimiterTest, ACheckoutsWaitOnItsPaymentIsNoQueue) {
  GradientLimiter limiter(Settings(), now_);
  limiter.Update(now_, limiter.limit());
  int64_t sent = now_;
  now_ += 50 * kMs;
  for (int i = 0; i < 15; ++i) limiter.OnSample(sent, sent + kMs);
  for (int i = 0; i < 5; ++i) limiter.OnSample(sent, now_, Priority::kHigh);
  limiter.Update(now_, limiter.limit());
  ASSERT_FALSE(limiter.probing());
  // Windows of the same mix at the same speeds, 4 pages to 6 checkouts
  // (a median that is a checkout's): nothing queues, so the limit grows.
  int last = limiter.limit();
  for (int w = 0; w < 5; ++w) {
    sent = now_;
    now_ += 100 * kMs;
    for (int i = 0; i < 4; ++i) limiter.OnSample(sent, sent + kMs);
    for (int i = 0; i < 6; ++i) {
      limiter.OnSample(sent, sent + 50 * kMs, Priority::kHigh);
    }
    const int limit = limiter.Update(now_, limiter.limit());
    EXPECT_GT(limit, last) << "window " << w;
    last = limit;
  }
}

TEST_F(LimiterTest, AFewMillisecondsOfWaitOnAFastPageAreWithinTheAllowance) {
  // An event loop at its busiest: pages served in 0.5 ms with no queue
  // take 3 ms, every request waiting its turn a little.
  LimiterSettings s = Settings();
  s.allowance_ns = 10 * kMs;
  GradientLimiter limiter(s, now_);
  limiter.Update(now_, limiter.limit());
  for (int i = 0; i < 20; ++i) limiter.OnSample(now_, now_ + kMs / 2);
  now_ += kMs;
  limiter.Update(now_, limiter.limit());
  ASSERT_EQ(limiter.min_rtt_ns(), kMs / 2);
  for (int i = 0; i < 10; ++i) Window(limiter, 3);
  EXPECT_GT(limiter.limit(), 40) << "no allowance: it would fall to 3";
  // Past the allowance the wait is a queue: the limit comes down.
  const int before = limiter.limit();
  EXPECT_LT(Window(limiter, 30), before);
}

TEST_F(LimiterTest,
       WithoutAnAllowanceAMillisecondOfWaitSendsTheLimitToItsMinimum) {
  // What the allowance is for (docs/proxy.md: 27% shed at capacity).
  LimiterSettings s = Settings();
  s.allowance_ns = 0;
  GradientLimiter limiter(s, now_);
  limiter.Update(now_, limiter.limit());
  for (int i = 0; i < 20; ++i) limiter.OnSample(now_, now_ + kMs / 2);
  now_ += kMs;
  limiter.Update(now_, limiter.limit());
  for (int i = 0; i < 3; ++i) Window(limiter, 1);
  EXPECT_EQ(limiter.limit(), 3) << "at its minimum";
}

TEST_F(LimiterTest, UnderOverloadItSettlesAtTheAllowance) {
  // 4 requests' worth of parallelism at 10 ms; past that, queueing.
  LimiterSettings s = Settings();
  s.allowance_ns = LimiterSettings().allowance_ns;  // 5 ms
  GradientLimiter limiter(s, now_);
  Probe(limiter, 10);
  auto latency = [](int in_flight) -> int64_t {
    return in_flight <= 4 ? 10 : 10 * in_flight / 4;
  };
  for (int i = 0; i < 100; ++i) Window(limiter, latency(limiter.limit()));
  // 17.5 ms is 7 in flight; the headroom adds a few.
  EXPECT_GE(limiter.limit(), 6);
  EXPECT_LE(limiter.limit(), 12);
}

}  // namespace
}  // namespace corral::overload
