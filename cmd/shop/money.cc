#include "shop/money.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace shop {

namespace {

// Percent scaled by 10^4 gives parts per million of the amount.
constexpr int64_t kPartsPerMillionPerPercent = 10'000;
constexpr int64_t kMillion = 1'000'000;

}  // namespace

int64_t PercentOf(int64_t cents, double percent) {
  if (!(percent > 0)) return 0;  // also catches NaN
  if (percent > 100) percent = 100;
  const int64_t ppm = std::llround(percent * kPartsPerMillionPerPercent);
  const bool negative = cents < 0;
  const int64_t magnitude = negative ? -cents : cents;
  const int64_t rounded = (magnitude * ppm + kMillion / 2) / kMillion;
  return negative ? -rounded : rounded;
}

std::string FormatCents(int64_t cents) {
  // Unsigned so that even INT64_MIN has a magnitude.
  const bool negative = cents < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(cents)
                                      : static_cast<uint64_t>(cents);
  return absl::StrFormat("%s%d.%02d", negative ? "-" : "", magnitude / 100,
                         magnitude % 100);
}

}  // namespace shop
