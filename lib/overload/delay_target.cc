#include "overload/delay_target.h"

namespace corral::overload {

void DelayTarget::Observe(int64_t now_ns, int64_t oldest_queued_ns) {
  // The moment the oldest request passed the target.
  const int64_t passed = oldest_queued_ns + target_ns_;
  if (now_ns < passed) {
    // Overloaded, the queue stands until it empties: the LIFO order keeps
    // its oldest request young, and that is no sign the load went away.
    if (!overloaded_) above_since_ns_.reset();
    return;
  }
  if (!above_since_ns_) above_since_ns_ = passed;
  if (now_ns - *above_since_ns_ >= interval_ns_) overloaded_ = true;
}

}  // namespace corral::overload
