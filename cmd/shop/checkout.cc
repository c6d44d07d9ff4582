#include "shop/checkout.h"

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "shop/money.h"

namespace shop {

namespace {

using Json = nlohmann::json;

// Each line's price is re-verified by stretching a hash over the product
// record. It stands in for the real per-line work a store does (price rules,
// fraud scoring) so that checkout costs CPU the way it would in production.
constexpr int kVerificationRounds = 2048;
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

struct CartLine {
  uint64_t id;
  uint64_t quantity;
};

// A JSON integer >= 1; nullopt for anything else (floats such as 2.0,
// strings, booleans, zero, negatives). Unsigned so that a huge value is still
// reported as itself: as an unknown id or a quantity above the limit.
std::optional<uint64_t> PositiveInteger(const Json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (v == 0) return std::nullopt;
    return v;
  }
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (v <= 0) return std::nullopt;
    return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<CartLine>> ParseCart(std::string_view json_body,
                                                const SaleSettings& settings) {
  const Json body = Json::parse(json_body, /*cb=*/nullptr,
                                /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return absl::InvalidArgumentError("body is not valid JSON");
  }
  if (!body.is_object()) {
    return absl::InvalidArgumentError("body must be a JSON object");
  }
  if (auto coupon = body.find("coupon");
      coupon != body.end() && !coupon->is_string()) {
    return absl::InvalidArgumentError("coupon must be a string");
  }
  auto items = body.find("items");
  if (items == body.end()) {
    return absl::InvalidArgumentError("items is required");
  }
  if (!items->is_array() || items->empty()) {
    return absl::InvalidArgumentError("items must be a non-empty array");
  }
  if (items->size() > static_cast<size_t>(settings.max_cart_lines)) {
    return absl::InvalidArgumentError(
        absl::StrCat("items has ", items->size(), " lines; at most ",
                     settings.max_cart_lines, " are allowed"));
  }

  std::vector<CartLine> lines;
  lines.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    const std::string where = absl::StrCat("items[", i, "]");
    if (!item.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " must be an object"));
    }
    auto id_field = item.find("id");
    std::optional<uint64_t> id;
    if (id_field != item.end()) id = PositiveInteger(*id_field);
    if (!id.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".id must be a positive integer"));
    }
    auto quantity_field = item.find("quantity");
    std::optional<uint64_t> quantity;
    if (quantity_field != item.end())
      quantity = PositiveInteger(*quantity_field);
    if (!quantity.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".quantity must be a positive integer"));
    }
    if (*quantity > static_cast<uint64_t>(settings.max_quantity_per_line)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".quantity ", *quantity, " is above the limit of ",
          settings.max_quantity_per_line, " per line"));
    }
    lines.push_back(CartLine{.id = *id, .quantity = *quantity});
  }
  return lines;
}

uint64_t VerifyPrice(const Product& product, int quantity) {
  uint64_t h = kFnvOffset;
  for (int round = 0; round < kVerificationRounds; ++round) {
    for (unsigned char c : product.name) {
      h = (h ^ c) * kFnvPrime;
    }
    h = (h ^ static_cast<uint64_t>(product.price_cents) ^
         (static_cast<uint64_t>(round) << 40)) *
        kFnvPrime;
  }
  return (h ^ static_cast<uint64_t>(quantity)) * kFnvPrime;
}

QuoteLine PriceLine(const Product& product, int quantity,
                    const SaleSettings& settings) {
  QuoteLine line{.id = product.id,
                 .name = product.name,
                 .quantity = quantity,
                 .unit_cents = product.price_cents};
  line.subtotal_cents = product.price_cents * quantity;
  const int64_t sale =
      PercentOf(line.subtotal_cents, settings.discount_percent);
  int64_t bulk = 0;
  if (quantity >= settings.bulk_threshold_items) {
    bulk =
        PercentOf(line.subtotal_cents - sale, settings.bulk_discount_percent);
  }
  line.discount_cents = sale + bulk;
  const int64_t taxable = line.subtotal_cents - line.discount_cents;
  line.tax_cents = PercentOf(taxable, settings.tax_rate_percent);
  line.total_cents = taxable + line.tax_cents;
  return line;
}

}  // namespace

absl::StatusOr<Quote> PriceCart(const Catalog& catalog,
                                std::string_view json_body,
                                const SaleSettings& settings) {
  if (absl::Status s = ValidateSaleSettings(settings); !s.ok()) {
    return absl::InternalError(
        absl::StrCat("sale settings are invalid: ", s.message()));
  }
  absl::StatusOr<std::vector<CartLine>> cart = ParseCart(json_body, settings);
  if (!cart.ok()) return cart.status();

  // Stock is checked against the sum over every line naming a product, so
  // splitting a cart into lines cannot get around it.
  std::map<int, uint64_t> wanted;
  std::vector<const Product*> products;
  products.reserve(cart->size());
  for (const CartLine& line : *cart) {
    const Product* product =
        line.id > static_cast<uint64_t>(std::numeric_limits<int>::max())
            ? nullptr
            : catalog.Find(static_cast<int>(line.id));
    if (product == nullptr) {
      return absl::NotFoundError(absl::StrCat("unknown product ", line.id));
    }
    // Cannot wrap: at most max_cart_lines lines of max_quantity_per_line.
    const uint64_t total_wanted = wanted[product->id] += line.quantity;
    if (product->stock < 0 ||
        total_wanted > static_cast<uint64_t>(product->stock)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "only ", product->stock, " of product ", product->id, " (",
          product->name, ") in stock; the cart asks for ", total_wanted));
    }
    products.push_back(product);
  }

  Quote quote;
  quote.lines.reserve(cart->size());
  quote.verification = kFnvOffset;
  for (size_t i = 0; i < cart->size(); ++i) {
    const Product& product = *products[i];
    // quantity <= max_quantity_per_line, an int.
    const int quantity = static_cast<int>((*cart)[i].quantity);
    if (product.price_cents < 0) {
      return absl::InternalError(
          absl::StrCat("product ", product.id, " has a negative price"));
    }
    // Checked before adding up so that no sum can overflow.
    if (product.price_cents > (kMaxCents - quote.subtotal_cents) / quantity) {
      return absl::InvalidArgumentError(
          absl::StrCat("the cart costs more than the ", FormatCents(kMaxCents),
                       " a single order may"));
    }
    if (quantity > std::numeric_limits<int>::max() - quote.item_count) {
      return absl::InvalidArgumentError("the cart holds too many items");
    }
    QuoteLine line = PriceLine(product, quantity, settings);
    quote.verification =
        (quote.verification ^ VerifyPrice(product, quantity)) * kFnvPrime;
    quote.subtotal_cents += line.subtotal_cents;
    quote.discount_cents += line.discount_cents;
    quote.tax_cents += line.tax_cents;
    quote.total_cents += line.total_cents;
    quote.item_count += quantity;
    quote.lines.push_back(std::move(line));
  }
  return quote;
}

std::string QuoteToJson(const Quote& quote) {
  Json lines = Json::array();
  for (const QuoteLine& line : quote.lines) {
    lines.push_back({{"id", line.id},
                     {"name", line.name},
                     {"quantity", line.quantity},
                     {"unit_cents", line.unit_cents},
                     {"subtotal_cents", line.subtotal_cents},
                     {"discount_cents", line.discount_cents},
                     {"tax_cents", line.tax_cents},
                     {"total_cents", line.total_cents}});
  }
  const Json j = {
      {"lines", std::move(lines)},
      {"item_count", quote.item_count},
      {"subtotal_cents", quote.subtotal_cents},
      {"discount_cents", quote.discount_cents},
      {"tax_cents", quote.tax_cents},
      {"total_cents", quote.total_cents},
      {"total", FormatCents(quote.total_cents)},
      {"verification", absl::StrFormat("%016x", quote.verification)}};
  // Replace rather than throw on a name that is not valid UTF-8.
  return j.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                Json::error_handler_t::replace);
}

}  // namespace shop
