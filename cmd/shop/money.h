// Money is integer cents throughout the store. Percentages are applied with
// explicit half-up rounding so a quote comes out the same, to the cent, on
// every machine and in every worker.
#ifndef SHOP_MONEY_H_
#define SHOP_MONEY_H_

#include <cstdint>
#include <string>

namespace shop {

// The largest amount PercentOf handles exactly: cents * 10^6 must fit in
// int64_t. Checkout refuses carts above it rather than overflow.
inline constexpr int64_t kMaxCents = 1'000'000'000'000;  // $10 billion

// `percent` of `cents`, rounded half up (half away from zero for negative
// amounts). The percentage is taken to 1/10000 of a percent, so 8.25 is exact.
// Expects 0 <= percent <= 100 and |cents| <= kMaxCents; percentages outside
// [0, 100] (or NaN) are clamped so the arithmetic stays defined.
int64_t PercentOf(int64_t cents, double percent);

// "12.34", "-0.05", "0.00".
std::string FormatCents(int64_t cents);

}  // namespace shop

#endif  // SHOP_MONEY_H_
