#include "shop/products_view.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "http/percent.h"
#include "shop/money.h"

namespace shop {

namespace {

using Json = nlohmann::json;

constexpr int kDefaultPerPage = 20;
constexpr int kMaxPerPage = 100;

Json ProductJson(const Product& product) {
  return {{"id", product.id},
          {"name", product.name},
          {"category", product.category},
          {"price_cents", product.price_cents},
          {"price", FormatCents(product.price_cents)},
          {"stock", product.stock}};
}

std::string Dump(const Json& j) {
  // Replace rather than throw on a name that is not valid UTF-8.
  return j.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                Json::error_handler_t::replace);
}

// Digits only: from_chars alone would take "-3", and atoi-style parsers take
// " 3" or "+3".
std::optional<int> ParseDigits(absl::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return std::nullopt;
  }
  int value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;  // too large for an int
  }
  return value;
}

}  // namespace

std::string ProductToJson(const Product& product) {
  return Dump(ProductJson(product));
}

absl::StatusOr<std::string> ProductsPageJson(const Catalog& catalog,
                                             std::string_view query_string) {
  if (!query_string.empty() && query_string.front() == '?') {
    query_string.remove_prefix(1);
  }
  // The raw values are not echoed in errors: they may be any bytes at all.
  int page = 1;
  int per_page = kDefaultPerPage;
  // Debian's absl has its own string_view, not an alias of std's.
  const absl::string_view query(query_string.data(), query_string.size());
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> raw =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::optional<std::string> key = corral::http::PercentDecode(
        std::string_view(raw.first.data(), raw.first.size()), true);
    std::optional<std::string> text = corral::http::PercentDecode(
        std::string_view(raw.second.data(), raw.second.size()), true);
    if (!key.has_value() || !text.has_value()) {
      return absl::InvalidArgumentError("query is not validly percent-encoded");
    }
    if (*key == "page") {
      std::optional<int> value = ParseDigits(*text);
      if (!value.has_value() || *value < 1) {
        return absl::InvalidArgumentError("page must be a positive integer");
      }
      page = *value;
    } else if (*key == "per_page") {
      std::optional<int> value = ParseDigits(*text);
      if (!value.has_value() || *value < 1 || *value > kMaxPerPage) {
        return absl::InvalidArgumentError(absl::StrCat(
            "per_page must be an integer from 1 to ", kMaxPerPage));
      }
      per_page = *value;
    }
  }

  const std::span<const Product> all = catalog.All();
  const int64_t total = static_cast<int64_t>(all.size());
  // 64-bit so that a huge page number cannot overflow.
  const int64_t first =
      std::min<int64_t>(static_cast<int64_t>(page - 1) * per_page, total);
  const int64_t last = std::min<int64_t>(first + per_page, total);
  Json items = Json::array();
  for (int64_t i = first; i < last; ++i) {
    items.push_back(ProductJson(all[static_cast<size_t>(i)]));
  }
  const Json j = {{"page", page},
                  {"per_page", per_page},
                  {"total", total},
                  {"pages", (total + per_page - 1) / per_page},
                  {"items", std::move(items)}};
  return Dump(j);
}

}  // namespace shop
