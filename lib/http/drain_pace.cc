#include "http/drain_pace.h"

#include <algorithm>
#include <cstdint>

namespace corral::http {

using std::chrono::milliseconds;

milliseconds MaxDrainSpread(milliseconds drain_timeout) {
  return std::max(milliseconds{0}, drain_timeout / 2);
}

milliseconds DrainSpread(size_t connections, milliseconds drain_timeout) {
  const milliseconds paced{static_cast<int64_t>(connections * 1000 /
                                                kDrainClosesPerSecond)};
  return std::min(paced, MaxDrainSpread(drain_timeout));
}

size_t DrainedBy(size_t total, milliseconds elapsed, milliseconds spread) {
  if (spread.count() <= 0 || elapsed >= spread) return total;
  if (elapsed.count() <= 0) return 0;
  // Rounded up: the first step already tells someone.
  // elapsed < spread, and a spread is seconds: no overflow.
  const uint64_t num = static_cast<uint64_t>(total) *
                       static_cast<uint64_t>(elapsed.count());
  const uint64_t den = static_cast<uint64_t>(spread.count());
  return static_cast<size_t>((num + den - 1) / den);
}

}  // namespace corral::http
