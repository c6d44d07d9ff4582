#include "log/repeat_limiter.h"

#include <gtest/gtest.h>

namespace corral::log {
namespace {

class RepeatLimiterTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
  RepeatLimiter::Clock clock_ = [this] { return now_; };
};

TEST_F(RepeatLimiterTest, FirstLineOfATextGoesThroughWithNothingSuppressed) {
  RepeatLimiter limiter(absl::Seconds(5), clock_);
  auto d = limiter.Admit("accept failed, retrying shortly");
  EXPECT_TRUE(d.emit);
  EXPECT_EQ(d.suppressed, 0);
}

TEST_F(RepeatLimiterTest, RepeatsInsideTheWindowAreHeldBackAndCounted) {
  RepeatLimiter limiter(absl::Seconds(5), clock_);
  ASSERT_TRUE(limiter.Admit("accept failed").emit);
  // Ten a second for just under the window: all held back.
  for (int i = 1; i < 50; ++i) {
    now_ += absl::Milliseconds(100);
    auto d = limiter.Admit("accept failed");
    EXPECT_FALSE(d.emit) << i;
    EXPECT_EQ(d.suppressed, i);
  }
  // The window has passed: the next one goes through carrying the count.
  now_ += absl::Milliseconds(100);
  auto d = limiter.Admit("accept failed");
  EXPECT_TRUE(d.emit);
  EXPECT_EQ(d.suppressed, 49);
}

TEST_F(RepeatLimiterTest, TheCountStartsOverAfterALineGoesThrough) {
  RepeatLimiter limiter(absl::Seconds(5), clock_);
  limiter.Admit("x");
  now_ += absl::Seconds(1);
  EXPECT_FALSE(limiter.Admit("x").emit);
  now_ += absl::Seconds(5);
  EXPECT_EQ(limiter.Admit("x").suppressed, 1);
  now_ += absl::Seconds(1);
  EXPECT_FALSE(limiter.Admit("x").emit);
  EXPECT_FALSE(limiter.Admit("x").emit);
  now_ += absl::Seconds(5);
  auto d = limiter.Admit("x");
  EXPECT_TRUE(d.emit);
  EXPECT_EQ(d.suppressed, 2);
}

TEST_F(RepeatLimiterTest, ARepeatAfterAQuietWindowGoesThroughWithZero) {
  RepeatLimiter limiter(absl::Seconds(5), clock_);
  limiter.Admit("x");
  now_ += absl::Seconds(60);
  auto d = limiter.Admit("x");
  EXPECT_TRUE(d.emit);
  EXPECT_EQ(d.suppressed, 0);
}

TEST_F(RepeatLimiterTest, DifferentTextsAreLimitedSeparately) {
  RepeatLimiter limiter(absl::Seconds(5), clock_);
  EXPECT_TRUE(limiter.Admit("accept failed").emit);
  EXPECT_TRUE(limiter.Admit("worker crashed").emit);
  EXPECT_FALSE(limiter.Admit("accept failed").emit);
  EXPECT_FALSE(limiter.Admit("worker crashed").emit);
  EXPECT_TRUE(limiter.Admit("config change rejected").emit);
}

TEST_F(RepeatLimiterTest, ManyDistinctTextsStayBoundedAndAreNeverDropped) {
  RepeatLimiter limiter(absl::Seconds(5), clock_, /*max_keys=*/3);
  EXPECT_TRUE(limiter.Admit("a").emit);
  EXPECT_TRUE(limiter.Admit("b").emit);
  EXPECT_TRUE(limiter.Admit("c").emit);
  // Full, nothing expired: a new text goes through untracked.
  EXPECT_TRUE(limiter.Admit("d").emit);
  EXPECT_TRUE(limiter.Admit("d").emit);
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_FALSE(limiter.Admit("a").emit);  // "a" is still limited
  // Once the window passes, keys holding nothing back make room.
  now_ += absl::Seconds(5);
  EXPECT_TRUE(limiter.Admit("d").emit);
  EXPECT_FALSE(limiter.Admit("d").emit);
  // "a" held one line back, so it was kept to report it.
  auto a = limiter.Admit("a");
  EXPECT_TRUE(a.emit);
  EXPECT_EQ(a.suppressed, 1);
}

}  // namespace
}  // namespace corral::log
