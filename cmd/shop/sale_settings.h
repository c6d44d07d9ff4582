// The knobs of a sale. The defaults here are what the store runs with when no
// configuration is given.
#ifndef SHOP_SALE_SETTINGS_H_
#define SHOP_SALE_SETTINGS_H_

#include <cstdint>

#include "absl/status/status.h"

namespace shop {

struct SaleSettings {
  double discount_percent = 0;  // store-wide, on every line
  double tax_rate_percent = 8.25;
  int64_t payment_latency_ms = 50;  // the simulated payment provider
  // Lines with at least this many items get bulk_discount_percent off, on top
  // of the store-wide discount.
  int64_t bulk_threshold_items = 10;
  double bulk_discount_percent = 5;
  int max_cart_lines = 100;
  int max_quantity_per_line = 1000;
};

// InvalidArgumentError naming the first bad field: percentages outside
// [0, 100], a negative latency, or a threshold or limit below 1. Meant for
// whoever loads settings from configuration; PriceCart checks it too.
absl::Status ValidateSaleSettings(const SaleSettings& settings);

}  // namespace shop

#endif  // SHOP_SALE_SETTINGS_H_
