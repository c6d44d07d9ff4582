#include "shop/shop_config.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace corral::config {
namespace {

TEST(ShopConfigTest, StrictSaleSettings) {
  auto ok = shop::SaleSettingsFromJson(nlohmann::json::parse(
      R"({"discount_percent": 20, "payment_latency_ms": 5})"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->discount_percent, 20);
  EXPECT_EQ(ok->payment_latency_ms, 5);
  EXPECT_EQ(ok->tax_rate_percent, shop::SaleSettings().tax_rate_percent);
  for (const char* bad :
       {R"({"discount_percent": -1})", R"({"discount_percent": "10"})",
        R"({"discount_pct": 10})", R"([1])",
        R"({"payment_latency_ms": 1.5})"}) {
    EXPECT_FALSE(shop::SaleSettingsFromJson(nlohmann::json::parse(bad)).ok())
        << bad;
  }
}

TEST(ShopConfigTest, WholeConfig) {
  auto c = Config::Parse(
      shop::ShopConfigSpec(),
      {{"banner", "Sale!\n"}, {"features.json", R"({"x": true})"}});
  ASSERT_TRUE(c.ok()) << c.status();
  auto s = shop::ShopConfigFrom(*c);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->banner, "Sale!");
  EXPECT_EQ(s->features.at("x"), true);
  EXPECT_FALSE(
      Config::Parse(shop::ShopConfigSpec(), {{"features.json", R"({"x": 1})"}})
          .ok());
}

}  // namespace
}  // namespace corral::config
