#include "overload/lag_shedder.h"

#include <algorithm>

namespace corral::overload {

LagShedder::LagShedder(int64_t target_ns, int64_t interval_ns)
    : target_ns_(target_ns), interval_ns_(interval_ns) {}

void LagShedder::OnProbe(int64_t now_ns, int64_t lag_ns) {
  lag_ns_ = lag_ns;
  if (lag_ns_ < target_ns_) {
    above_since_ns_.reset();
    if (!behind_) return;
    if (!below_since_ns_) below_since_ns_ = now_ns;
    if (now_ns - *below_since_ns_ < interval_ns_) return;
    // An interval on time: one class fewer is shed outright, or none.
    below_since_ns_ = now_ns;
    if (floor_ > Priority::kLow) {
      floor_ = static_cast<Priority>(static_cast<int>(floor_) - 1);
      floor_set_ns_ = now_ns;
    } else {
      behind_ = false;
      below_since_ns_.reset();
    }
    return;
  }
  below_since_ns_.reset();
  // The moment the loop passed the target: this probe was late since then.
  if (!above_since_ns_) above_since_ns_ = now_ns - (lag_ns_ - target_ns_);
  if (!behind_) {
    if (now_ns - *above_since_ns_ < interval_ns_) return;
    behind_ = true;
    floor_ = Priority::kLow;
    floor_set_ns_ = now_ns;
    seen_ns_.fill(std::nullopt);
    served_ns_.fill(std::nullopt);
    return;
  }
  // Shedding the marginal class whenever the loop is late did not get any
  // of it served for an interval: the classes above it are the load.
  const Priority marginal = Marginal(now_ns);
  const auto m = static_cast<size_t>(marginal);
  if (marginal == Priority::kHigh || !seen_ns_[m]) return;
  const int64_t quiet_since =
      std::max(floor_set_ns_, served_ns_[m].value_or(floor_set_ns_));
  if (now_ns - quiet_since < interval_ns_) return;
  floor_ = static_cast<Priority>(static_cast<int>(marginal) + 1);
  floor_set_ns_ = now_ns;
}

Priority LagShedder::Marginal(int64_t now_ns) const {
  for (int c = static_cast<int>(floor_); c < kPriorities; ++c) {
    const std::optional<int64_t>& seen = seen_ns_[static_cast<size_t>(c)];
    if (seen && now_ns - *seen < interval_ns_) return static_cast<Priority>(c);
  }
  return floor_;
}

bool LagShedder::Admit(Priority p, int64_t now_ns, int64_t lag_ns) {
  const auto c = static_cast<size_t>(p);
  seen_ns_[c] = now_ns;
  if (p < floor_) return false;
  if (p == Marginal(now_ns) && lag_ns >= target_ns_) return false;
  served_ns_[c] = now_ns;
  return true;
}

}  // namespace corral::overload
