// When a queue is standing rather than absorbing a burst, after CoDel and
// Facebook's "Fail at Scale": once the oldest request has waited longer
// than the target for a whole interval, the queue is overloaded until no
// request has waited past the target for a whole interval. Overloaded, a
// request waits at most the target and the newest are served first
// (adaptive LIFO: the oldest ones' users have likely given up); otherwise
// a burst may wait the target plus an interval. A queue that empties for
// a moment is no sign of relief: with several proxy workers each queue
// empties now and then under any load, and each time it did, the next
// interval's requests waited up to a second in arrival order (measured:
// served requests waited 50-250 ms at twice the app's capacity).
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

  // The queue at `now` holds requests, the oldest queued at `oldest`
  // (nullopt: none).
  void Observe(int64_t now_ns, std::optional<int64_t> oldest_queued_ns);
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
  // Overloaded: when a request was last seen past the target.
  int64_t last_above_ns_ = 0;
  bool overloaded_ = false;
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_DELAY_TARGET_H_
