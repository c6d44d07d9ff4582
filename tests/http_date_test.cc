#include "http/http_date.h"

#include <gtest/gtest.h>

namespace corral::http {
namespace {

TEST(HttpDateTest, FormatsImfFixdate) {
  // RFC 9110's own example.
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDateTest, CacheFormatsAgainOnlyWhenTheSecondChanges) {
  DateCache cache;
  const std::string* first = &cache.At(784111777);
  EXPECT_EQ(*first, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cache.At(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cache.At(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
}

}  // namespace
}  // namespace corral::http
