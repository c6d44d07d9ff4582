#include <climits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shop/catalog.h"
#include "shop/products_view.h"

namespace shop {
namespace {

using Json = nlohmann::json;

Catalog CatalogOf(int n) {
  std::vector<Product> products;
  for (int id = 1; id <= n; ++id) {
    products.push_back({id, absl::StrCat("P", id), "x", id * 100, 1});
  }
  return Catalog(std::move(products));
}

Json Page(const Catalog& catalog, std::string_view query) {
  absl::StatusOr<std::string> page = ProductsPageJson(catalog, query);
  EXPECT_TRUE(page.ok()) << query << ": " << page.status();
  if (!page.ok()) return Json();
  return Json::parse(*page, nullptr, false);
}

std::vector<int> Ids(const Json& page) {
  std::vector<int> ids;
  for (const Json& item : page["items"]) ids.push_back(item["id"].get<int>());
  return ids;
}

std::vector<int> Range(int first, int last) {
  std::vector<int> ids;
  for (int id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

TEST(ShopProductsView, ProductToJsonHasEveryField) {
  const Json j = Json::parse(
      ProductToJson({7, "Brass \"Lamp\"", "Home", 1234, 3}), nullptr, false);
  EXPECT_EQ(j, Json({{"id", 7},
                     {"name", "Brass \"Lamp\""},
                     {"category", "Home"},
                     {"price_cents", 1234},
                     {"price", "12.34"},
                     {"stock", 3}}));
}

TEST(ShopProductsView, ProductToJsonPadsCents) {
  EXPECT_EQ(Json::parse(ProductToJson({1, "a", "b", 5, 0}))["price"], "0.05");
  EXPECT_EQ(Json::parse(ProductToJson({1, "a", "b", 100, 0}))["price"], "1.00");
  EXPECT_EQ(Json::parse(ProductToJson({1, "a", "b", 99999, 0}))["price"],
            "999.99");
}

TEST(ShopProductsView, DefaultsToFirstPageOfTwenty) {
  const Json j = Page(Catalog::Default(), "");
  EXPECT_EQ(j["page"], 1);
  EXPECT_EQ(j["per_page"], 20);
  EXPECT_EQ(j["total"], 500);
  EXPECT_EQ(j["pages"], 25);
  EXPECT_EQ(Ids(j), Range(1, 20));
  EXPECT_EQ(j["items"][0],
            Json::parse(ProductToJson(*Catalog::Default().Find(1))));
}

TEST(ShopProductsView, PageAndPerPage) {
  const Json j = Page(Catalog::Default(), "page=2&per_page=50");
  EXPECT_EQ(j["page"], 2);
  EXPECT_EQ(j["per_page"], 50);
  EXPECT_EQ(j["pages"], 10);
  EXPECT_EQ(Ids(j), Range(51, 100));
}

TEST(ShopProductsView, LastPageIsPartialAndPastTheEndIsEmpty) {
  const Catalog catalog = CatalogOf(45);
  const Json third = Page(catalog, "page=3");
  EXPECT_EQ(third["pages"], 3);
  EXPECT_EQ(Ids(third), Range(41, 45));
  const Json fourth = Page(catalog, "page=4");
  EXPECT_EQ(fourth["page"], 4);
  EXPECT_EQ(fourth["total"], 45);
  ASSERT_TRUE(fourth["items"].is_array());
  EXPECT_TRUE(fourth["items"].empty());
}

TEST(ShopProductsView, ExactMultipleHasNoExtraPage) {
  const Json j = Page(CatalogOf(40), "per_page=20&page=2");
  EXPECT_EQ(j["pages"], 2);
  EXPECT_EQ(Ids(j), Range(21, 40));
}

TEST(ShopProductsView, HugePageDoesNotOverflow) {
  const Json j =
      Page(Catalog::Default(), absl::StrCat("page=", INT_MAX, "&per_page=100"));
  EXPECT_EQ(j["page"], INT_MAX);
  EXPECT_TRUE(j["items"].empty());
}

TEST(ShopProductsView, PerPageBounds) {
  EXPECT_EQ(Ids(Page(Catalog::Default(), "per_page=1")), Range(1, 1));
  EXPECT_EQ(Ids(Page(Catalog::Default(), "per_page=100&page=5")),
            Range(401, 500));
}

TEST(ShopProductsView, EmptyCatalogHasNoPages) {
  const Json j = Page(Catalog(std::vector<Product>{}), "");
  EXPECT_EQ(j["total"], 0);
  EXPECT_EQ(j["pages"], 0);
  ASSERT_TRUE(j["items"].is_array());
  EXPECT_TRUE(j["items"].empty());
}

TEST(ShopProductsView, IgnoresUnknownKeysEmptyPairsAndALeadingQuestionMark) {
  EXPECT_EQ(Ids(Page(CatalogOf(30), "?sort=price&&page=2&per_page=10&q")),
            Range(11, 20));
}

TEST(ShopProductsView, RepeatedKeyTakesTheLastValue) {
  EXPECT_EQ(Page(CatalogOf(30), "page=1&page=3&per_page=10")["page"], 3);
}

class ShopProductsViewErrors
    : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(ShopProductsViewErrors, AreInvalidArgument) {
  absl::StatusOr<std::string> page =
      ProductsPageJson(Catalog::Default(), GetParam().first);
  ASSERT_FALSE(page.ok()) << GetParam().first;
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(page.status().message(), GetParam().second) << GetParam().first;
}

const std::string kBadPage = "page must be a positive integer";
const std::string kBadPerPage = "per_page must be an integer from 1 to 100";

INSTANTIATE_TEST_SUITE_P(
    Query, ShopProductsViewErrors,
    ::testing::Values(
        std::pair{"page=0", kBadPage}, std::pair{"page=-1", kBadPage},
        std::pair{"page=abc", kBadPage}, std::pair{"page=", kBadPage},
        std::pair{"page", kBadPage}, std::pair{"page=1.5", kBadPage},
        std::pair{"page=+2", kBadPage}, std::pair{"page=%202", kBadPage},
        std::pair{"page=2x", kBadPage}, std::pair{"page=99999999999", kBadPage},
        std::pair{"per_page=0", kBadPerPage},
        std::pair{"per_page=101", kBadPerPage},
        std::pair{"per_page=ten", kBadPerPage},
        std::pair{"per_page=", kBadPerPage},
        std::pair{"page=2&per_page=-5", kBadPerPage}));

}  // namespace
}  // namespace shop
