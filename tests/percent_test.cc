#include "http/percent.h"

#include <gtest/gtest.h>

namespace corral::http {
namespace {

TEST(PercentTest, DecodesEscapesOfEitherCase) {
  EXPECT_EQ(PercentDecode("%31", false), "1");
  EXPECT_EQ(PercentDecode("a%2fb%2Fc", false), "a/b/c");
  EXPECT_EQ(PercentDecode("caf%C3%A9", false), "caf\xC3\xA9");
  EXPECT_EQ(PercentDecode("", false), "");
  EXPECT_EQ(PercentDecode("plain", false), "plain");
}

TEST(PercentTest, PlusIsASpaceOnlyInQueries) {
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentDecode("a%2Bb", true), "a+b");
}

TEST(PercentTest, BadOrTruncatedEscapesAreRefused) {
  for (const char* bad : {"%zz", "%3", "%", "a%", "%g1", "%1g", "ok%2"}) {
    EXPECT_EQ(PercentDecode(bad, false), std::nullopt) << bad;
    EXPECT_FALSE(IsValidPercentEncoding(bad)) << bad;
  }
}

TEST(PercentTest, ValidityMatchesDecoding) {
  for (const char* good : {"", "page=%32", "%25", "%2525", "a=1&b=%7e"}) {
    EXPECT_TRUE(IsValidPercentEncoding(good)) << good;
    EXPECT_NE(PercentDecode(good, true), std::nullopt) << good;
  }
  // Decoding happens once: %2525 is "%25", not "%".
  EXPECT_EQ(PercentDecode("%2525", false), "%25");
}

}  // namespace
}  // namespace corral::http
