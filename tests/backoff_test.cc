#include "master/backoff.h"

#include <gtest/gtest.h>

namespace corral::master {
namespace {

TEST(BackoffTest, FirstRestartIsImmediateThenDoublesToCap) {
  Backoff b;
  b.initial = absl::Milliseconds(500);
  b.cap = absl::Seconds(4);
  EXPECT_EQ(b.Delay(1), absl::ZeroDuration());
  EXPECT_EQ(b.Delay(2), absl::Milliseconds(500));
  EXPECT_EQ(b.Delay(3), absl::Seconds(1));
  EXPECT_EQ(b.Delay(4), absl::Seconds(2));
  EXPECT_EQ(b.Delay(5), absl::Seconds(4));
  EXPECT_EQ(b.Delay(6), absl::Seconds(4));
  EXPECT_EQ(b.Delay(1000), absl::Seconds(4));
}

}  // namespace
}  // namespace corral::master
