#include "metrics/process_stats.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::metrics {
namespace {

TEST(ProcessStatsTest, ParsesProcSelfStat) {
  // Fields 1..24 of /proc/self/stat, with a command name holding ") (".
  std::string stat =
      "42 (corral) (x)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 "
      "1000 16646144 2274 18446744073709551615";
  auto s = ParseProcStat(stat, 100, 4096, 1700000000);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000010);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 16646144);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2274.0 * 4096);
  EXPECT_FALSE(ParseProcStat("garbage", 100, 4096, 0).has_value());
}

}  // namespace
}  // namespace corral::metrics
