// Pricing a cart: validate the request body against the catalogue and price
// every line in integer cents. Pure: no I/O, no clocks, no payment.
#ifndef SHOP_CHECKOUT_H_
#define SHOP_CHECKOUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "shop/catalog.h"
#include "shop/sale_settings.h"

namespace shop {

struct QuoteLine {
  int id;
  std::string name;
  int quantity;
  int64_t unit_cents;
  int64_t subtotal_cents;  // unit_cents * quantity
  int64_t discount_cents;  // sale discount plus bulk discount
  int64_t tax_cents;       // on subtotal - discount
  int64_t total_cents;     // subtotal - discount + tax
};

struct Quote {
  std::vector<QuoteLine> lines;  // in request order
  int64_t subtotal_cents = 0;
  int64_t discount_cents = 0;
  int64_t tax_cents = 0;
  int64_t total_cents = 0;
  int item_count = 0;  // sum of quantities
  // A digest of every line's price verification; the same cart priced with
  // the same catalogue and settings always gets the same value.
  uint64_t verification = 0;
};

// Prices `json_body`, shaped like
//   {"items": [{"id": 12, "quantity": 2}, ...], "coupon": "optional"}
// Unknown keys are ignored; a coupon, if present, must be a string and is not
// honoured yet. Per line, in cents, each step rounded half up:
//   discount = sale% of subtotal, then bulk% of what is left when quantity
//              >= bulk_threshold_items;
//   tax      = tax% of (subtotal - discount).
// Errors:
//   InvalidArgument    - malformed body, bad items, too many lines, a quantity
//                        above the per-line limit, or a cart above kMaxCents;
//   NotFound           - an id the catalogue does not have;
//   FailedPrecondition - more of a product than is in stock (counting every
//                        line that names it);
//   Internal           - `settings` fail ValidateSaleSettings.
absl::StatusOr<Quote> PriceCart(const Catalog& catalog,
                                std::string_view json_body,
                                const SaleSettings& settings);

// The quote as a JSON object: the fields above, plus "total" as "12.34" and
// "verification" as 16 hex digits.
std::string QuoteToJson(const Quote& quote);

}  // namespace shop

#endif  // SHOP_CHECKOUT_H_
