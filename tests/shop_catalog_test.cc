#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "shop/catalog.h"

namespace shop {
namespace {

TEST(ShopCatalog, DefaultHasIds1To500InOrder) {
  const Catalog& catalog = Catalog::Default();
  ASSERT_EQ(catalog.size(), 500u);
  ASSERT_EQ(catalog.All().size(), 500u);
  for (size_t i = 0; i < catalog.All().size(); ++i) {
    EXPECT_EQ(catalog.All()[i].id, static_cast<int>(i) + 1);
  }
}

TEST(ShopCatalog, DefaultFindsEveryIdAndNothingElse) {
  const Catalog& catalog = Catalog::Default();
  for (int id = 1; id <= 500; ++id) {
    const Product* p = catalog.Find(id);
    ASSERT_NE(p, nullptr) << id;
    EXPECT_EQ(p->id, id);
  }
  EXPECT_EQ(catalog.Find(0), nullptr);
  EXPECT_EQ(catalog.Find(-1), nullptr);
  EXPECT_EQ(catalog.Find(501), nullptr);
}

TEST(ShopCatalog, DefaultPricesAndStockArePlausible) {
  for (const Product& p : Catalog::Default().All()) {
    EXPECT_GE(p.price_cents, 99) << p.id;
    EXPECT_LE(p.price_cents, 99999) << p.id;
    // Every product can reach the default bulk threshold of 10.
    EXPECT_GE(p.stock, 10) << p.id;
    EXPECT_FALSE(p.name.empty()) << p.id;
  }
}

TEST(ShopCatalog, DefaultNamesAreUniqueAcrossEightCategories) {
  std::set<std::string> names;
  std::set<std::string> categories;
  for (const Product& p : Catalog::Default().All()) {
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    categories.insert(p.category);
  }
  EXPECT_EQ(categories.size(), 8u);
}

TEST(ShopCatalog, DefaultIsTheSameInEveryBuild) {
  // Pinned so that a change to the generator shows up here, not as a
  // surprise in a load test that posts known ids.
  const Product* first = Catalog::Default().Find(1);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->name, "Classic Novel");
  EXPECT_EQ(first->category, "Books");
  EXPECT_EQ(first->price_cents, 2695);
  EXPECT_EQ(first->stock, 343);
  EXPECT_EQ(&Catalog::Default(), &Catalog::Default());
}

TEST(ShopCatalog, ConstructorSortsById) {
  Catalog catalog(
      {{30, "C", "x", 300, 1}, {10, "A", "x", 100, 1}, {20, "B", "x", 200, 1}});
  ASSERT_EQ(catalog.size(), 3u);
  EXPECT_EQ(catalog.All()[0].id, 10);
  EXPECT_EQ(catalog.All()[1].id, 20);
  EXPECT_EQ(catalog.All()[2].id, 30);
  ASSERT_NE(catalog.Find(20), nullptr);
  EXPECT_EQ(catalog.Find(20)->name, "B");
  EXPECT_EQ(catalog.Find(15), nullptr);
  EXPECT_EQ(catalog.Find(31), nullptr);
  EXPECT_EQ(catalog.Find(9), nullptr);
}

TEST(ShopCatalog, DuplicateIdsFindTheFirst) {
  Catalog catalog({{5, "first", "x", 1, 1}, {5, "second", "x", 2, 2}});
  ASSERT_NE(catalog.Find(5), nullptr);
  EXPECT_EQ(catalog.Find(5)->name, "first");
}

TEST(ShopCatalog, EmptyCatalogFindsNothing) {
  Catalog catalog(std::vector<Product>{});
  EXPECT_EQ(catalog.size(), 0u);
  EXPECT_TRUE(catalog.All().empty());
  EXPECT_EQ(catalog.Find(1), nullptr);
}

}  // namespace
}  // namespace shop
