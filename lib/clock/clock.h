// Time as the master's policy code sees it: passed in, so unit tests drive
// the supervisor and the config record with a fake clock.
#ifndef CORRAL_CLOCK_CLOCK_H_
#define CORRAL_CLOCK_CLOCK_H_

#include <cstdint>
#include <string>

namespace corral::clock {

// CLOCK_MONOTONIC and CLOCK_REALTIME, in nanoseconds.
int64_t MonotonicNanos();
int64_t UnixNanos();

// "2026-11-26T09:30:00.123Z", for logs and /status.
std::string IsoTime(int64_t unix_ns);

class Clock {
 public:
  virtual ~Clock() = default;
  // For intervals and deadlines.
  virtual int64_t Now() const = 0;
  // For timestamps people read.
  virtual int64_t UnixNow() const = 0;
};

// The real clocks.
class SystemClock : public Clock {
 public:
  int64_t Now() const override { return MonotonicNanos(); }
  int64_t UnixNow() const override { return UnixNanos(); }
};

}  // namespace corral::clock

#endif  // CORRAL_CLOCK_CLOCK_H_
