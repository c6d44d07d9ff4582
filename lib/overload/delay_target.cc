#include "overload/delay_target.h"

namespace corral::overload {

void DelayTarget::Observe(int64_t now_ns,
                          std::optional<int64_t> oldest_queued_ns) {
  // The moment the oldest request passed the target.
  const bool above =
      oldest_queued_ns && now_ns >= *oldest_queued_ns + target_ns_;
  if (overloaded_) {
    // Overloaded, requests are shed as they pass the target; it is over
    // once none has for an interval.
    if (above) {
      last_above_ns_ = now_ns;
    } else if (now_ns - last_above_ns_ >= interval_ns_) {
      overloaded_ = false;
      above_since_ns_.reset();
    }
    return;
  }
  if (!above) {
    above_since_ns_.reset();
    return;
  }
  if (!above_since_ns_) above_since_ns_ = *oldest_queued_ns + target_ns_;
  if (now_ns - *above_since_ns_ >= interval_ns_) {
    overloaded_ = true;
    last_above_ns_ = now_ns;
  }
}

}  // namespace corral::overload
