#include "shop/shop_config.h"

#include "absl/strings/str_cat.h"

namespace shop {
namespace {

using corral::config::KeySpec;
using corral::config::KeyType;

absl::Status Field(const nlohmann::json& j, const std::string& name,
                   double* out) {
  if (!j.is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sale.json: ", name, " must be a number"));
  }
  *out = j.get<double>();
  return absl::OkStatus();
}

template <typename Int>
absl::Status Field(const nlohmann::json& j, const std::string& name, Int* out) {
  if (!j.is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sale.json: ", name, " must be an integer"));
  }
  *out = j.get<Int>();
  return absl::OkStatus();
}

}  // namespace

corral::config::ConfigSpec ShopConfigSpec() {
  corral::config::ConfigSpec spec;
  spec.keys = {
      KeySpec{"sale.json", KeyType::kJson, "{}",
              "discount_percent, tax_rate_percent, payment_latency_ms, "
              "bulk_threshold_items, bulk_discount_percent, max_cart_lines, "
              "max_quantity_per_line"},
      KeySpec{"banner", KeyType::kString, "", "text shown on GET /"},
      KeySpec{"features.json", KeyType::kJson, "{}", "feature flags"},
  };
  spec.validate = [](const corral::config::Config& c) {
    return ShopConfigFrom(c).status();
  };
  return spec;
}

absl::StatusOr<SaleSettings> SaleSettingsFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError("sale.json must be a JSON object");
  }
  SaleSettings s;
  for (const auto& [key, value] : j.items()) {
    absl::Status st;
    if (key == "discount_percent") {
      st = Field(value, key, &s.discount_percent);
    } else if (key == "tax_rate_percent") {
      st = Field(value, key, &s.tax_rate_percent);
    } else if (key == "payment_latency_ms") {
      st = Field(value, key, &s.payment_latency_ms);
    } else if (key == "bulk_threshold_items") {
      st = Field(value, key, &s.bulk_threshold_items);
    } else if (key == "bulk_discount_percent") {
      st = Field(value, key, &s.bulk_discount_percent);
    } else if (key == "max_cart_lines") {
      st = Field(value, key, &s.max_cart_lines);
    } else if (key == "max_quantity_per_line") {
      st = Field(value, key, &s.max_quantity_per_line);
    } else {
      st = absl::InvalidArgumentError(
          absl::StrCat("sale.json: unknown field \"", key, "\""));
    }
    if (!st.ok()) return st;
  }
  if (s.payment_latency_ms > 60000) {
    return absl::InvalidArgumentError(
        "sale.json: payment_latency_ms must be at most 60000");
  }
  absl::Status valid = ValidateSaleSettings(s);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sale.json: ", valid.message()));
  }
  return s;
}

absl::StatusOr<ShopConfig> ShopConfigFrom(const corral::config::Config& c) {
  ShopConfig out;
  auto sale = SaleSettingsFromJson(c.Get("sale.json"));
  if (!sale.ok()) return sale.status();
  out.sale = *sale;
  out.banner =
      c.Get("banner").is_string() ? c.Get("banner").get<std::string>() : "";
  while (!out.banner.empty() &&
         (out.banner.back() == '\n' || out.banner.back() == '\r')) {
    out.banner.pop_back();
  }
  const nlohmann::json& features = c.Get("features.json");
  if (!features.is_object()) {
    return absl::InvalidArgumentError("features.json must be a JSON object");
  }
  for (const auto& [name, on] : features.items()) {
    if (!on.is_boolean()) {
      return absl::InvalidArgumentError(
          absl::StrCat("features.json: \"", name, "\" must be true or false"));
    }
    out.features[name] = on.get<bool>();
  }
  return out;
}

}  // namespace shop
