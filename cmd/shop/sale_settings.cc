#include "shop/sale_settings.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shop {

namespace {

absl::Status CheckPercent(absl::string_view name, double value) {
  // Written so that NaN fails too.
  if (value >= 0 && value <= 100) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, " must be between 0 and 100, got ", value));
}

absl::Status CheckAtLeastOne(absl::string_view name, int64_t value) {
  if (value >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, " must be at least 1, got ", value));
}

}  // namespace

absl::Status ValidateSaleSettings(const SaleSettings& settings) {
  absl::Status s;
  s.Update(CheckPercent("discount_percent", settings.discount_percent));
  s.Update(CheckPercent("tax_rate_percent", settings.tax_rate_percent));
  if (settings.payment_latency_ms < 0) {
    s.Update(absl::InvalidArgumentError(
        absl::StrCat("payment_latency_ms must not be negative, got ",
                     settings.payment_latency_ms)));
  }
  s.Update(
      CheckAtLeastOne("bulk_threshold_items", settings.bulk_threshold_items));
  s.Update(
      CheckPercent("bulk_discount_percent", settings.bulk_discount_percent));
  s.Update(CheckAtLeastOne("max_cart_lines", settings.max_cart_lines));
  s.Update(
      CheckAtLeastOne("max_quantity_per_line", settings.max_quantity_per_line));
  return s;
}

}  // namespace shop
