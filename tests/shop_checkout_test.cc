#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shop/catalog.h"
#include "shop/checkout.h"
#include "shop/sale_settings.h"

namespace shop {
namespace {

using ::testing::HasSubstr;

const Catalog& TestCatalog() {
  static const Catalog* const kCatalog = new Catalog({
      {1, "Walnut Desk", "Home", 1999, 50},
      {2, "Tea Towel", "Kitchen", 1250, 5},
      {3, "Pencil", "Office", 50, 1000},
      {4, "Yacht", "Marine", 100'000'000'000, 100},
      {5, "Penny Sweet", "Candy", 1, 100},
      {6, "Three Cent Stamp", "Post", 3, 100},
      {7, "Nickel", "Coins", 5, 100},
  });
  return *kCatalog;
}

// 10% off everything, 5% more off lines of 10 or more, 8.25% tax.
SaleSettings SaleWithBulk() {
  SaleSettings s;
  s.discount_percent = 10;
  s.bulk_discount_percent = 5;
  s.bulk_threshold_items = 10;
  s.tax_rate_percent = 8.25;
  return s;
}

TEST(ShopCheckout, HandComputedCartWithDiscountBulkAndTax) {
  absl::StatusOr<Quote> quote =
      PriceCart(TestCatalog(),
                R"({"items":[{"id":1,"quantity":12},{"id":2,"quantity":1}]})",
                SaleWithBulk());
  ASSERT_TRUE(quote.ok()) << quote.status();
  ASSERT_EQ(quote->lines.size(), 2u);

  // Desk: 12 x 19.99 = 239.88; 10% = 23.988 -> 23.99; left 215.89;
  // bulk 5% = 10.7945 -> 10.79; taxable 205.10; tax 16.92075 -> 16.92.
  const QuoteLine& desk = quote->lines[0];
  EXPECT_EQ(desk.id, 1);
  EXPECT_EQ(desk.name, "Walnut Desk");
  EXPECT_EQ(desk.quantity, 12);
  EXPECT_EQ(desk.unit_cents, 1999);
  EXPECT_EQ(desk.subtotal_cents, 23988);
  EXPECT_EQ(desk.discount_cents, 2399 + 1079);
  EXPECT_EQ(desk.tax_cents, 1692);
  EXPECT_EQ(desk.total_cents, 20510 + 1692);

  // Towel: 12.50; 10% = 1.25; no bulk; taxable 11.25; tax 0.928125 -> 0.93.
  const QuoteLine& towel = quote->lines[1];
  EXPECT_EQ(towel.id, 2);
  EXPECT_EQ(towel.quantity, 1);
  EXPECT_EQ(towel.subtotal_cents, 1250);
  EXPECT_EQ(towel.discount_cents, 125);
  EXPECT_EQ(towel.tax_cents, 93);
  EXPECT_EQ(towel.total_cents, 1218);

  EXPECT_EQ(quote->subtotal_cents, 25238);
  EXPECT_EQ(quote->discount_cents, 3603);
  EXPECT_EQ(quote->tax_cents, 1785);
  EXPECT_EQ(quote->total_cents, 23420);
  EXPECT_EQ(quote->item_count, 13);
}

TEST(ShopCheckout, DefaultSettingsChargeOnlyTax) {
  absl::StatusOr<Quote> quote = PriceCart(
      TestCatalog(), R"({"items":[{"id":1,"quantity":1}]})", SaleSettings{});
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->discount_cents, 0);
  EXPECT_EQ(quote->tax_cents, 165);  // 164.9175
  EXPECT_EQ(quote->total_cents, 2164);
}

TEST(ShopCheckout, BulkThresholdIsInclusive) {
  const SaleSettings defaults;  // 5% bulk from 10 items, 8.25% tax
  absl::StatusOr<Quote> nine = PriceCart(
      TestCatalog(), R"({"items":[{"id":3,"quantity":9}]})", defaults);
  absl::StatusOr<Quote> ten = PriceCart(
      TestCatalog(), R"({"items":[{"id":3,"quantity":10}]})", defaults);
  ASSERT_TRUE(nine.ok()) << nine.status();
  ASSERT_TRUE(ten.ok()) << ten.status();
  // 4.50, no bulk, tax 0.37125 -> 0.37.
  EXPECT_EQ(nine->discount_cents, 0);
  EXPECT_EQ(nine->tax_cents, 37);
  EXPECT_EQ(nine->total_cents, 487);
  // 5.00, bulk 0.25, tax on 4.75 = 0.391875 -> 0.39.
  EXPECT_EQ(ten->discount_cents, 25);
  EXPECT_EQ(ten->tax_cents, 39);
  EXPECT_EQ(ten->total_cents, 514);
}

TEST(ShopCheckout, RoundsEachLineHalfUp) {
  SaleSettings half_tax;
  half_tax.tax_rate_percent = 50;
  absl::StatusOr<Quote> quote = PriceCart(TestCatalog(),
                                          R"({"items":[{"id":5,"quantity":1},
                                          {"id":6,"quantity":1},
                                          {"id":7,"quantity":1}]})",
                                          half_tax);
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->lines[0].tax_cents, 1);  // 0.5
  EXPECT_EQ(quote->lines[1].tax_cents, 2);  // 1.5
  EXPECT_EQ(quote->lines[2].tax_cents, 3);  // 2.5, not 2 as half-even
  // Rounded per line, then summed: 6, where rounding the sum (4.5) gives 5.
  EXPECT_EQ(quote->tax_cents, 6);
  EXPECT_EQ(quote->total_cents, 9 + 6);
}

TEST(ShopCheckout, SameProductOnTwoLinesIsPricedPerLine) {
  absl::StatusOr<Quote> quote =
      PriceCart(TestCatalog(),
                R"({"items":[{"id":3,"quantity":5},{"id":3,"quantity":5}]})",
                SaleSettings{});
  ASSERT_TRUE(quote.ok()) << quote.status();
  ASSERT_EQ(quote->lines.size(), 2u);
  // Neither line reaches the bulk threshold on its own.
  EXPECT_EQ(quote->discount_cents, 0);
  EXPECT_EQ(quote->item_count, 10);
}

TEST(ShopCheckout, CouponAndUnknownKeysAreAccepted) {
  absl::StatusOr<Quote> quote = PriceCart(
      TestCatalog(),
      R"({"items":[{"id":1,"quantity":1,"note":"gift"}],"coupon":"SAVE10",
          "extra":true})",
      SaleSettings{});
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->total_cents, 2164);
}

TEST(ShopCheckout, VerificationIsDeterministicAndDependsOnTheCart) {
  const std::string body = R"({"items":[{"id":1,"quantity":2}]})";
  absl::StatusOr<Quote> a = PriceCart(TestCatalog(), body, SaleSettings{});
  absl::StatusOr<Quote> b = PriceCart(TestCatalog(), body, SaleSettings{});
  absl::StatusOr<Quote> c = PriceCart(
      TestCatalog(), R"({"items":[{"id":1,"quantity":3}]})", SaleSettings{});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->verification, b->verification);
  EXPECT_NE(a->verification, c->verification);
}

TEST(ShopCheckout, PricesTheDefaultCatalogue) {
  std::string body = R"({"items":[)";
  for (int id = 1; id <= 100; ++id) {
    absl::StrAppend(&body, id > 1 ? "," : "", R"({"id":)", id * 5,
                    R"(,"quantity":)", 1 + id % 10, "}");
  }
  absl::StrAppend(&body, "]}");
  absl::StatusOr<Quote> quote =
      PriceCart(Catalog::Default(), body, SaleSettings{});
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->lines.size(), 100u);
  int64_t total = 0;
  for (const QuoteLine& line : quote->lines) {
    EXPECT_EQ(line.total_cents,
              line.subtotal_cents - line.discount_cents + line.tax_cents);
    total += line.total_cents;
  }
  EXPECT_EQ(quote->total_cents, total);
}

struct BadCart {
  std::string body;
  absl::StatusCode code;
  std::string message;
};

class ShopCheckoutErrors : public ::testing::TestWithParam<BadCart> {};

TEST_P(ShopCheckoutErrors, AreReportedWithCodeAndMessage) {
  SaleSettings settings;
  settings.max_cart_lines = 3;
  absl::StatusOr<Quote> quote =
      PriceCart(TestCatalog(), GetParam().body, settings);
  ASSERT_FALSE(quote.ok()) << GetParam().body;
  EXPECT_EQ(quote.status().code(), GetParam().code) << quote.status();
  EXPECT_EQ(quote.status().message(), GetParam().message) << GetParam().body;
}

constexpr absl::StatusCode kBad = absl::StatusCode::kInvalidArgument;

// The first line is good in the items[1] cases, so the index is checked too.
INSTANTIATE_TEST_SUITE_P(
    Validation, ShopCheckoutErrors,
    ::testing::Values(
        BadCart{"", kBad, "body is not valid JSON"},
        BadCart{"not json", kBad, "body is not valid JSON"},
        BadCart{R"({"items":[{"id":1,"quantity":1}])", kBad,
                "body is not valid JSON"},
        BadCart{"[1,2]", kBad, "body must be a JSON object"},
        BadCart{"null", kBad, "body must be a JSON object"},
        BadCart{"{}", kBad, "items is required"},
        BadCart{R"({"items":null})", kBad, "items must be a non-empty array"},
        BadCart{R"({"items":{}})", kBad, "items must be a non-empty array"},
        BadCart{R"({"items":[]})", kBad, "items must be a non-empty array"},
        BadCart{R"({"items":[1,2,3,4]})", kBad,
                "items has 4 lines; at most 3 are allowed"},
        BadCart{R"({"items":[{"id":1,"quantity":1}],"coupon":5})", kBad,
                "coupon must be a string"},
        BadCart{R"({"items":[{"id":1,"quantity":1},7]})", kBad,
                "items[1] must be an object"},
        BadCart{R"({"items":[{"id":1,"quantity":1},[]]})", kBad,
                "items[1] must be an object"},
        BadCart{R"({"items":[{"quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":0,"quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":-4,"quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":1.5,"quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":1.0,"quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":"1","quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":true,"quantity":1}]})", kBad,
                "items[0].id must be a positive integer"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":2}]})", kBad,
                "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":2,"quantity":0}]})",
                kBad, "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":2,"quantity":-1}]})",
                kBad, "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":2,"quantity":2.5}]})",
                kBad, "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":2,"quantity":"2"}]})",
                kBad, "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":2,"quantity":null}]})",
                kBad, "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":3,"quantity":1001}]})", kBad,
                "items[0].quantity 1001 is above the limit of 1000 per line"},
        BadCart{R"({"items":[{"id":3,"quantity":18446744073709551615}]})", kBad,
                "items[0].quantity 18446744073709551615 is above the limit of "
                "1000 per line"},
        // Shape errors win over catalogue errors on earlier lines.
        BadCart{R"({"items":[{"id":9999,"quantity":1},{"id":1}]})", kBad,
                "items[1].quantity must be a positive integer"},
        BadCart{R"({"items":[{"id":9999,"quantity":1}]})",
                absl::StatusCode::kNotFound, "unknown product 9999"},
        BadCart{R"({"items":[{"id":1,"quantity":1},{"id":9999,"quantity":1}]})",
                absl::StatusCode::kNotFound, "unknown product 9999"},
        BadCart{R"({"items":[{"id":18446744073709551615,"quantity":1}]})",
                absl::StatusCode::kNotFound,
                "unknown product 18446744073709551615"},
        BadCart{R"({"items":[{"id":2,"quantity":6}]})",
                absl::StatusCode::kFailedPrecondition,
                "only 5 of product 2 (Tea Towel) in stock; the cart asks for "
                "6"},
        BadCart{R"({"items":[{"id":2,"quantity":3},{"id":2,"quantity":3}]})",
                absl::StatusCode::kFailedPrecondition,
                "only 5 of product 2 (Tea Towel) in stock; the cart asks for "
                "6"},
        BadCart{R"({"items":[{"id":4,"quantity":11}]})", kBad,
                "the cart costs more than the 10000000000.00 a single order "
                "may"},
        BadCart{R"({"items":[{"id":4,"quantity":10},{"id":3,"quantity":1}]})",
                kBad,
                "the cart costs more than the 10000000000.00 a single order "
                "may"}));

TEST(ShopCheckout, CartAtTheCapIsPriced) {
  absl::StatusOr<Quote> quote = PriceCart(
      TestCatalog(), R"({"items":[{"id":4,"quantity":10}]})", SaleSettings{});
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(quote->subtotal_cents, 1'000'000'000'000);
  // 10 items reach the bulk threshold: 5% off, then 8.25% tax on the rest.
  EXPECT_EQ(quote->discount_cents, 50'000'000'000);
  EXPECT_EQ(quote->tax_cents, 78'375'000'000);
}

TEST(ShopCheckout, InvalidSettingsAreAnInternalError) {
  SaleSettings settings;
  settings.tax_rate_percent = 120;
  absl::StatusOr<Quote> quote = PriceCart(
      TestCatalog(), R"({"items":[{"id":1,"quantity":1}]})", settings);
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(quote.status().message()),
              HasSubstr("tax_rate_percent"));
}

TEST(ShopSaleSettings, DefaultsAreValid) {
  EXPECT_TRUE(ValidateSaleSettings(SaleSettings{}).ok());
}

TEST(ShopSaleSettings, RejectsEachBadField) {
  auto with = [](auto change) {
    SaleSettings s;
    change(s);
    return ValidateSaleSettings(s);
  };
  const absl::Status cases[] = {
      with([](SaleSettings& s) { s.discount_percent = -1; }),
      with([](SaleSettings& s) { s.discount_percent = 100.5; }),
      with([](SaleSettings& s) { s.tax_rate_percent = std::nan(""); }),
      with([](SaleSettings& s) { s.payment_latency_ms = -1; }),
      with([](SaleSettings& s) { s.bulk_threshold_items = 0; }),
      with([](SaleSettings& s) { s.bulk_discount_percent = 101; }),
      with([](SaleSettings& s) { s.max_cart_lines = 0; }),
      with([](SaleSettings& s) { s.max_quantity_per_line = -3; }),
  };
  for (const absl::Status& s : cases) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  EXPECT_EQ(with([](SaleSettings& s) { s.max_cart_lines = 0; }).message(),
            "max_cart_lines must be at least 1, got 0");
}

TEST(ShopCheckout, QuoteToJsonCarriesEveryField) {
  absl::StatusOr<Quote> quote =
      PriceCart(TestCatalog(),
                R"({"items":[{"id":1,"quantity":12},{"id":2,"quantity":1}]})",
                SaleWithBulk());
  ASSERT_TRUE(quote.ok()) << quote.status();
  const nlohmann::json j =
      nlohmann::json::parse(QuoteToJson(*quote), nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["subtotal_cents"], 25238);
  EXPECT_EQ(j["discount_cents"], 3603);
  EXPECT_EQ(j["tax_cents"], 1785);
  EXPECT_EQ(j["total_cents"], 23420);
  EXPECT_EQ(j["total"], "234.20");
  EXPECT_EQ(j["item_count"], 13);
  ASSERT_TRUE(j["verification"].is_string());
  EXPECT_EQ(j["verification"].get<std::string>().size(), 16u);
  ASSERT_EQ(j["lines"].size(), 2u);
  const nlohmann::json& desk = j["lines"][0];
  EXPECT_EQ(desk["id"], 1);
  EXPECT_EQ(desk["name"], "Walnut Desk");
  EXPECT_EQ(desk["quantity"], 12);
  EXPECT_EQ(desk["unit_cents"], 1999);
  EXPECT_EQ(desk["subtotal_cents"], 23988);
  EXPECT_EQ(desk["discount_cents"], 3478);
  EXPECT_EQ(desk["tax_cents"], 1692);
  EXPECT_EQ(desk["total_cents"], 22202);
}

TEST(ShopCheckout, QuoteToJsonSurvivesANameThatIsNotUtf8) {
  Quote quote;
  quote.lines.push_back({.id = 1,
                         .name = "bad \xff name",
                         .quantity = 1,
                         .unit_cents = 1,
                         .subtotal_cents = 1,
                         .discount_cents = 0,
                         .tax_cents = 0,
                         .total_cents = 1});
  const nlohmann::json j =
      nlohmann::json::parse(QuoteToJson(quote), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["lines"][0]["name"], "bad \xEF\xBF\xBD name");
}

}  // namespace
}  // namespace shop
