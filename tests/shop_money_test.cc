#include <cmath>
#include <cstdint>
#include <limits>

#include "gtest/gtest.h"
#include "shop/money.h"

namespace shop {
namespace {

TEST(ShopMoney, PercentOfRoundsHalfUp) {
  EXPECT_EQ(PercentOf(1, 50), 1);           // 0.5
  EXPECT_EQ(PercentOf(3, 50), 2);           // 1.5
  EXPECT_EQ(PercentOf(5, 50), 3);           // 2.5: half-even would give 2
  EXPECT_EQ(PercentOf(49, 1), 0);           // 0.49
  EXPECT_EQ(PercentOf(50, 1), 1);           // 0.50
  EXPECT_EQ(PercentOf(200, 8.25), 17);      // 16.5
  EXPECT_EQ(PercentOf(150, 8.25), 12);      // 12.375
  EXPECT_EQ(PercentOf(1999, 8.25), 165);    // 164.9175
  EXPECT_EQ(PercentOf(20510, 8.25), 1692);  // 1692.075
}

TEST(ShopMoney, PercentOfIsExactForFractionalPercents) {
  // 0.1 and 8.25 are not exact doubles; the scaled integer rate is.
  EXPECT_EQ(PercentOf(1'000'000, 0.1), 1000);
  EXPECT_EQ(PercentOf(10'000, 8.25), 825);
  EXPECT_EQ(PercentOf(100'000, 0.0001), 0);  // 0.1 cent
  EXPECT_EQ(PercentOf(500'000, 0.0001), 1);  // 0.5 cent
}

TEST(ShopMoney, PercentOfEdges) {
  EXPECT_EQ(PercentOf(0, 8.25), 0);
  EXPECT_EQ(PercentOf(12345, 0), 0);
  EXPECT_EQ(PercentOf(12345, 100), 12345);
  EXPECT_EQ(PercentOf(kMaxCents, 100), kMaxCents);
  EXPECT_EQ(PercentOf(kMaxCents, 8.25), 82'500'000'000);
  // Negative amounts round half away from zero, mirroring positive ones.
  EXPECT_EQ(PercentOf(-5, 50), -3);
  // Out-of-range percentages are clamped rather than overflowing.
  EXPECT_EQ(PercentOf(100, -5), 0);
  EXPECT_EQ(PercentOf(100, 250), 100);
  EXPECT_EQ(PercentOf(100, std::nan("")), 0);
}

TEST(ShopMoney, FormatCents) {
  EXPECT_EQ(FormatCents(0), "0.00");
  EXPECT_EQ(FormatCents(5), "0.05");
  EXPECT_EQ(FormatCents(99), "0.99");
  EXPECT_EQ(FormatCents(100), "1.00");
  EXPECT_EQ(FormatCents(1234), "12.34");
  EXPECT_EQ(FormatCents(99999), "999.99");
  EXPECT_EQ(FormatCents(-5), "-0.05");
  EXPECT_EQ(FormatCents(-1234), "-12.34");
  EXPECT_EQ(FormatCents(std::numeric_limits<int64_t>::min()),
            "-92233720368547758.08");
}

}  // namespace
}  // namespace shop
