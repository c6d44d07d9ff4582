#include "master/cpu_follower.h"

#include <utility>

namespace corral::master {

CpuFollower::CpuFollower(cpu::CpuCount first, Detect detect,
                         const clock::Clock& clock, absl::Duration every)
    : current_(std::move(first)),
      detect_(std::move(detect)),
      clock_(clock),
      every_ns_(absl::ToInt64Nanoseconds(every)),
      next_ns_(clock.Now() + every_ns_) {}

std::optional<cpu::CpuCount> CpuFollower::Poll() {
  const int64_t now = clock_.Now();
  if (now < next_ns_) return std::nullopt;
  next_ns_ = now + every_ns_;
  cpu::CpuCount seen = detect_();
  if (seen.workers == current_.workers) {
    current_ = std::move(seen);  // the same count, perhaps from new figures
    return std::nullopt;
  }
  current_ = std::move(seen);
  return current_;
}

}  // namespace corral::master
