// What the store reads from its config dir (a mounted ConfigMap):
//   sale.json      the sale's knobs, e.g. {"discount_percent": 20}
//   banner         a line of text shown on GET /
//   features.json  feature flags, e.g. {"express_checkout": true}
// Every key is optional; a missing one means the built-in defaults.
#ifndef SHOP_SHOP_CONFIG_H_
#define SHOP_SHOP_CONFIG_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "shop/sale_settings.h"

namespace shop {

corral::config::ConfigSpec ShopConfigSpec();

// Strict: unknown fields and wrong types are errors, so a typo never passes
// silently as "use the default".
absl::StatusOr<SaleSettings> SaleSettingsFromJson(const nlohmann::json& j);

struct ShopConfig {
  SaleSettings sale;
  std::string banner;
  std::map<std::string, bool> features;
};
absl::StatusOr<ShopConfig> ShopConfigFrom(const corral::config::Config& c);

}  // namespace shop

#endif  // SHOP_SHOP_CONFIG_H_
