// When a queue is standing rather than absorbing a burst, after CoDel and
// Facebook's "Fail at Scale": once the oldest request has waited longer
// than the target for a whole interval, the queue is overloaded until it
// empties. Overloaded, a request waits at most the target and the newest
// are served first (adaptive LIFO: the oldest ones' users have likely
// given up); otherwise a burst may wait the target plus an interval.
//
// Pure: time comes in as arguments (CLOCK_MONOTONIC nanoseconds).
#ifndef CORRAL_OVERLOAD_DELAY_TARGET_H_
#define CORRAL_OVERLOAD_DELAY_TARGET_H_

#include <cstdint>
#include <optional>

namespace corral::overload {

class DelayTarget {
 public:
  DelayTarget(int64_t target_ns, int64_t interval_ns)
      : target_ns_(target_ns), interval_ns_(interval_ns) {}

  // The queue at `now` holds requests, the oldest queued at `oldest`.
  void Observe(int64_t now_ns, int64_t oldest_queued_ns);
  // The queue was served until empty: whatever stood is gone.
  void Emptied() {
    above_since_ns_.reset();
    overloaded_ = false;
  }
  bool overloaded() const { return overloaded_; }
  // The longest a request may wait, as things stand.
  int64_t MaxWait() const {
    return overloaded_ ? target_ns_ : target_ns_ + interval_ns_;
  }

 private:
  int64_t target_ns_;
  int64_t interval_ns_;
  // Since when the oldest request has waited past the target.
  std::optional<int64_t> above_since_ns_;
  bool overloaded_ = false;
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_DELAY_TARGET_H_
