#include "shop/catalog.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shop {

namespace {

constexpr int kDefaultSize = 500;

struct Category {
  absl::string_view name;
  int min_dollars;
  int max_dollars;
  std::array<absl::string_view, 8> nouns;
};

constexpr std::array<Category, 8> kCategories = {{
    {"Books",
     6,
     60,
     {"Novel", "Cookbook", "Atlas", "Journal", "Field Guide", "Anthology",
      "Notebook", "Almanac"}},
    {"Kitchen",
     9,
     240,
     {"Skillet", "Kettle", "Chef's Knife", "Cutting Board", "Teapot",
      "Mixing Bowl", "Colander", "Saucepan"}},
    {"Electronics",
     19,
     999,
     {"Headphones", "Speaker", "Keyboard", "Webcam", "Charger", "Power Bank",
      "Monitor", "Router"}},
    {"Garden",
     5,
     180,
     {"Trowel", "Watering Can", "Planter", "Pruner", "Hose Reel", "Seed Kit",
      "Rake", "Bird Feeder"}},
    {"Outdoors",
     12,
     650,
     {"Tent", "Backpack", "Sleeping Bag", "Lantern", "Water Bottle",
      "Camp Stove", "Hammock", "Compass"}},
    {"Home",
     8,
     400,
     {"Lamp", "Throw Blanket", "Cushion", "Mirror", "Clock", "Vase", "Rug",
      "Bookshelf"}},
    {"Toys",
     4,
     120,
     {"Puzzle", "Kite", "Building Set", "Yo-Yo", "Board Game", "Plush Bear",
      "Train Set", "Spinning Top"}},
    {"Apparel",
     7,
     220,
     {"Scarf", "Beanie", "Rain Jacket", "Hoodie", "Socks", "Gloves", "Sweater",
      "Cap"}},
}};

constexpr std::array<absl::string_view, 16> kAdjectives = {
    "Classic",  "Compact",  "Deluxe", "Rustic", "Modern", "Sturdy",
    "Vintage",  "Handmade", "Bright", "Quiet",  "Nimble", "Cozy",
    "Everyday", "Premium",  "Travel", "Bold"};

constexpr std::array<int, 4> kCentEndings = {99, 49, 95, 0};

// splitmix64: a fixed integer mix, so prices and stock do not depend on the
// standard library's random engines or distributions.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::vector<Product> GenerateDefault() {
  std::vector<Product> products;
  products.reserve(kDefaultSize);
  for (int i = 0; i < kDefaultSize; ++i) {
    const Category& category = kCategories[i % kCategories.size()];
    // Within a category, j walks every (noun, adjective) pair at most once:
    // for a fixed noun the adjective index 2k + noun is distinct for k < 8.
    const int j = i / static_cast<int>(kCategories.size());
    const int noun = j % 8;
    const int adjective = (2 * (j / 8) + noun) % kAdjectives.size();
    const uint64_t r = Mix(static_cast<uint64_t>(i + 1));
    const int span = category.max_dollars - category.min_dollars + 1;
    const int64_t dollars = category.min_dollars + static_cast<int>(r % span);
    const int cents = kCentEndings[(r >> 16) % kCentEndings.size()];
    // At least 10 in stock, so every product can reach the bulk discount.
    const int stock = 10 + static_cast<int>((r >> 32) % 491);
    products.push_back(Product{
        .id = i + 1,
        .name = absl::StrCat(kAdjectives[adjective], " ", category.nouns[noun]),
        .category = std::string(category.name),
        .price_cents = dollars * 100 + cents,
        .stock = stock,
    });
  }
  return products;
}

}  // namespace

Catalog::Catalog(std::vector<Product> products)
    : products_(std::move(products)) {
  std::stable_sort(
      products_.begin(), products_.end(),
      [](const Product& a, const Product& b) { return a.id < b.id; });
}

const Catalog& Catalog::Default() {
  // Never destroyed: workers may still be answering requests at exit.
  static const Catalog* const kDefault = new Catalog(GenerateDefault());
  return *kDefault;
}

const Product* Catalog::Find(int id) const {
  auto it = std::lower_bound(
      products_.begin(), products_.end(), id,
      [](const Product& p, int wanted) { return p.id < wanted; });
  if (it == products_.end() || it->id != id) return nullptr;
  return &*it;
}

}  // namespace shop
