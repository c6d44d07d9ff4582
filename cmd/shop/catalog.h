// The store's products. Read-only once built, so every worker can share one
// without locks.
#ifndef SHOP_CATALOG_H_
#define SHOP_CATALOG_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace shop {

struct Product {
  int id;
  std::string name;
  std::string category;
  int64_t price_cents;
  int stock;
};

class Catalog {
 public:
  // Ids should be unique; products are kept sorted by id. With duplicate ids
  // Find returns the one that came first.
  explicit Catalog(std::vector<Product> products);

  // The embedded catalogue: 500 products, ids 1..500, generated from word
  // lists with integer arithmetic only, so it is identical in every build.
  static const Catalog& Default();

  // nullptr when there is no such product.
  const Product* Find(int id) const;
  // In id order.
  std::span<const Product> All() const { return products_; }
  size_t size() const { return products_.size(); }

 private:
  std::vector<Product> products_;  // sorted by id
};

}  // namespace shop

#endif  // SHOP_CATALOG_H_
