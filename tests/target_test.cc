#include "http/target.h"

#include <gtest/gtest.h>

namespace corral::http {
namespace {

TEST(TargetTest, OriginFormPassesAsSent) {
  auto t = ParseRequestTarget("GET", "/products/1?page=%32&q={a|b}");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->origin, "/products/1?page=%32&q={a|b}");
  EXPECT_FALSE(t->authority.has_value());
}

TEST(TargetTest, AbsoluteFormGivesItsAuthorityAndAnOriginFormPath) {
  auto t = ParseRequestTarget("GET", "http://other.example:8080/x?y=1");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->origin, "/x?y=1");
  EXPECT_EQ(t->authority, "other.example:8080");
  t = ParseRequestTarget("GET", "HTTPS://shop.example");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->origin, "/");
  EXPECT_EQ(t->authority, "shop.example");
  t = ParseRequestTarget("GET", "http://shop.example?q");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->origin, "/?q");
}

TEST(TargetTest, AsteriskOnlyForOptions) {
  EXPECT_TRUE(ParseRequestTarget("OPTIONS", "*").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "*").has_value());
}

TEST(TargetTest, AuthorityFormUserinfoFragmentsAndStrayBytesAreRefused) {
  EXPECT_FALSE(ParseRequestTarget("CONNECT", "shop.example:443").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "shop.example/x").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "http://u@shop.example/").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "http:///x").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "/x#frag").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "/a\"b").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "/a<b>").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "/a\\b").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "/caf\xC3\xA9").has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", std::string("/a\x7f", 3)).has_value());
  EXPECT_FALSE(ParseRequestTarget("GET", "").has_value());
}

TEST(TargetTest, HostIsHostAndPortOnly) {
  EXPECT_TRUE(IsValidHost(""));
  EXPECT_TRUE(IsValidHost("shop.example"));
  EXPECT_TRUE(IsValidHost("shop.example:8080"));
  EXPECT_TRUE(IsValidHost("10.0.0.1:80"));
  EXPECT_TRUE(IsValidHost("[::1]:8080"));
  EXPECT_TRUE(IsValidHost("[fe80::1]"));
  EXPECT_FALSE(IsValidHost("a/b@evil.example"));
  EXPECT_FALSE(IsValidHost("user@shop.example"));
  EXPECT_FALSE(IsValidHost("shop.example:80a"));
  EXPECT_FALSE(IsValidHost("shop.example:123456"));
  EXPECT_FALSE(IsValidHost(":80"));
  EXPECT_FALSE(IsValidHost("[::1"));
  EXPECT_FALSE(IsValidHost("[::1]x"));
  EXPECT_FALSE(IsValidHost("shop example"));
}

}  // namespace
}  // namespace corral::http
