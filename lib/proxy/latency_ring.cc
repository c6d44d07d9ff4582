#include "proxy/latency_ring.h"

#include <algorithm>

namespace corral::proxy {
namespace {

// A word, from the top: the lap it was written in (6 bits, 1..63: a zeroed
// slot holds none), the class (2 bits), the start in microseconds modulo
// 2^28 (28 bits: 268 s) and the latency in microseconds (28 bits).
constexpr int kFieldBits = 28;
constexpr uint64_t kFieldMask = (uint64_t{1} << kFieldBits) - 1;
constexpr int kClassShift = 2 * kFieldBits;
constexpr int kTagShift = kClassShift + 2;
constexpr uint64_t kRing = region::kLatencyRing;

uint64_t Tag(uint64_t index) { return (index / kRing) % 63 + 1; }

}  // namespace

void PushLatency(region::WorkerSlot& app, int64_t started_ns,
                 int64_t answered_ns, overload::Priority priority) {
  const uint64_t index =
      app.latencies_written.fetch_add(1, std::memory_order_relaxed);
  const int64_t started_us = started_ns / 1000;
  const auto latency_us = static_cast<uint64_t>(std::clamp<int64_t>(
      answered_ns / 1000 - started_us, 0, static_cast<int64_t>(kFieldMask)));
  app.latencies[index % kRing].store(
      Tag(index) << kTagShift | static_cast<uint64_t>(priority) << kClassShift |
          (static_cast<uint64_t>(started_us) & kFieldMask) << kFieldBits |
          latency_us,
      std::memory_order_release);
}

LatencyReader::LatencyReader(const region::WorkerSlot& app)
    : next_(app.latencies_written.load(std::memory_order_acquire)) {}

void LatencyReader::Read(const region::WorkerSlot& app, int64_t now_ns,
                         std::vector<LatencySample>& out) {
  const uint64_t written =
      app.latencies_written.load(std::memory_order_acquire);
  if (written < next_) next_ = 0;  // a new app process in the slot
  next_ = std::max(next_, written > kRing ? written - kRing : 0);
  const auto now_us = static_cast<uint64_t>(now_ns / 1000);
  for (; next_ < written; ++next_) {
    const uint64_t word =
        app.latencies[next_ % kRing].load(std::memory_order_acquire);
    if (word >> kTagShift != Tag(next_)) continue;  // not stored yet
    // The start is the latest time up to now with these low bits.
    const uint64_t started_us =
        now_us - ((now_us - (word >> kFieldBits)) & kFieldMask);
    const auto started_ns = static_cast<int64_t>(started_us) * 1000;
    out.push_back({started_ns,
                   started_ns + static_cast<int64_t>(word & kFieldMask) * 1000,
                   static_cast<overload::Priority>((word >> kClassShift) & 3)});
  }
}

}  // namespace corral::proxy
