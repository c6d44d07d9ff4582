// Lets through at most one line per message text per window, and counts the
// ones held back, so a condition that repeats ten times a second (accept
// failing while descriptors are exhausted) shows as one line every few
// seconds that says how many identical lines it stands for.
#ifndef CORRAL_LOG_REPEAT_LIMITER_H_
#define CORRAL_LOG_REPEAT_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/time/time.h"

namespace corral::log {

class RepeatLimiter {
 public:
  using Clock = std::function<absl::Time()>;

  // What to do with one line.
  struct Decision {
    bool emit = true;
    // Lines with the same text held back since the last one let through;
    // reported on the line that is let through.
    int64_t suppressed = 0;
  };

  // `max_keys` bounds the memory a flood of distinct texts can take: when it
  // is reached, keys whose window has passed and that hold nothing back are
  // forgotten; failing that, the line is let through without being tracked.
  RepeatLimiter(absl::Duration window, Clock now, size_t max_keys = 1024);

  Decision Admit(std::string_view text);

  size_t tracked() const { return keys_.size(); }

 private:
  struct Entry {
    absl::Time last_emitted;
    int64_t suppressed = 0;
  };
  void ForgetExpired(absl::Time now);

  const absl::Duration window_;
  const Clock now_;
  const size_t max_keys_;
  std::unordered_map<std::string, Entry> keys_;
};

}  // namespace corral::log

#endif  // CORRAL_LOG_REPEAT_LIMITER_H_
