// The catalogue as JSON for the listing endpoints.
#ifndef SHOP_PRODUCTS_VIEW_H_
#define SHOP_PRODUCTS_VIEW_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "shop/catalog.h"

namespace shop {

// {"id":..,"name":..,"category":..,"price_cents":..,"price":"12.34",
//  "stock":..}
std::string ProductToJson(const Product& product);

// One page of the catalogue, in id order:
//   {"page":..,"per_page":..,"total":..,"pages":..,"items":[...]}
// `query_string` is the raw query, e.g. "page=2&per_page=50" (a leading '?'
// is allowed). page is 1-based and defaults to 1; per_page defaults to 20 and
// may be 1..100. Other keys are ignored; a repeated key takes its last value.
// Keys and values are percent-decoded ("page=%32" is page 2); a value must
// then be plain decimal digits. A page past the end has no items; it is not
// an error. InvalidArgumentError for a bad escape, or a page or per_page that
// is not an integer or is out of range.
absl::StatusOr<std::string> ProductsPageJson(const Catalog& catalog,
                                             std::string_view query_string);

}  // namespace shop

#endif  // SHOP_PRODUCTS_VIEW_H_
