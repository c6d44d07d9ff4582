#include "http/drain_pace.h"

#include <gtest/gtest.h>

namespace corral::http {
namespace {

using std::chrono::milliseconds;

TEST(DrainPaceTest, SpreadFollowsTheConnectionCount) {
  EXPECT_EQ(DrainSpread(0, milliseconds{20000}), milliseconds{0});
  EXPECT_EQ(DrainSpread(kDrainClosesPerSecond, milliseconds{20000}),
            milliseconds{1000});
  EXPECT_EQ(DrainSpread(8000, milliseconds{20000}),
            milliseconds{8000 * 1000 / kDrainClosesPerSecond});
}

TEST(DrainPaceTest, SpreadLeavesHalfTheDrainTimeout) {
  EXPECT_EQ(DrainSpread(1'000'000, milliseconds{20000}), milliseconds{10000});
  EXPECT_EQ(DrainSpread(14000, milliseconds{20000}), milliseconds{10000});
  EXPECT_EQ(DrainSpread(14000, milliseconds{2000}), milliseconds{1000});
  EXPECT_EQ(DrainSpread(14000, milliseconds{0}), milliseconds{0});
}

TEST(DrainPaceTest, TellsInProportionAndEveryoneByTheEnd) {
  const milliseconds spread{2000};
  EXPECT_EQ(DrainedBy(1000, milliseconds{0}, spread), 0u);
  EXPECT_EQ(DrainedBy(1000, milliseconds{1}, spread), 1u);  // rounded up
  EXPECT_EQ(DrainedBy(1000, milliseconds{500}, spread), 250u);
  EXPECT_EQ(DrainedBy(1000, milliseconds{1999}, spread), 1000u);
  EXPECT_EQ(DrainedBy(1000, milliseconds{2000}, spread), 1000u);
  EXPECT_EQ(DrainedBy(1000, milliseconds{60000}, spread), 1000u);
}

TEST(DrainPaceTest, NoSpreadTellsEveryoneAtOnce) {
  EXPECT_EQ(DrainedBy(1000, milliseconds{0}, milliseconds{0}), 1000u);
  EXPECT_EQ(DrainedBy(0, milliseconds{10}, milliseconds{100}), 0u);
}

TEST(DrainPaceTest, NeverTellsMoreThanThereAre) {
  for (int ms = 0; ms <= 3000; ms += 7) {
    const size_t n = DrainedBy(14000, milliseconds{ms}, milliseconds{2800});
    EXPECT_LE(n, 14000u);
    if (ms > 0) {
      EXPECT_GE(n, DrainedBy(14000, milliseconds{ms - 7}, milliseconds{2800}));
    }
  }
}

}  // namespace
}  // namespace corral::http
