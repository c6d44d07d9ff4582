#include "region/slot_recorder.h"

#include <cstring>

#include "clock/clock.h"

namespace corral::region {
namespace {

// Single writer: a plain load and store is enough and avoids a locked add.
inline void Bump(std::atomic<uint64_t>& a, uint64_t n = 1) {
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// A key that collects every series past kMaxSeries, so nothing goes uncounted.
constexpr int kOverflowStatus = 0;

}  // namespace

int BucketIndex(int64_t duration_ns) {
  double seconds = static_cast<double>(duration_ns) / 1e9;
  for (size_t i = 0; i < kDurationBounds.size(); ++i) {
    if (seconds <= kDurationBounds[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kDurationBounds.size());
}

void SlotRecorder::RequestPastDeadline(bool recycle) {
  Bump(slot_->past_deadline_total);
  if (recycle) slot_->recycle_requested.store(1, std::memory_order_release);
}

void SlotRecorder::PublishRoutes(const std::vector<std::string>& routes,
                                 std::string_view unmatched) {
  int n = 0;
  auto add = [&](std::string_view name) {
    if (n >= kMaxRoutes) return;
    std::memset(slot_->routes[n], 0, kRouteNameBytes);
    std::memcpy(slot_->routes[n], name.data(),
                std::min<size_t>(name.size(), kRouteNameBytes - 1));
    route_index_[std::string(name)] = n;
    ++n;
  };
  for (size_t i = 0; i < routes.size() && n < kMaxRoutes - 1; ++i)
    add(routes[i]);
  unmatched_index_ = n;
  add(unmatched);
  slot_->route_count.store(n, std::memory_order_release);
}

void SlotRecorder::SetState(SlotState state) {
  slot_->state.store(static_cast<uint32_t>(state), std::memory_order_release);
}

void SlotRecorder::Heartbeat() {
  slot_->heartbeat_ns.store(clock::MonotonicNanos(), std::memory_order_relaxed);
}

void SlotRecorder::SetConnections(size_t open) {
  slot_->connections_open.store(open, std::memory_order_relaxed);
}

void SlotRecorder::RequestStarted(std::string_view path) {
  slot_->in_flight.store(slot_->in_flight.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
  StorePath(*slot_, path);
}

void SlotRecorder::RequestFinished(std::string_view method,
                                   std::string_view route, int status,
                                   int64_t duration_ns) {
  auto it = route_index_.find(route);
  int r = it == route_index_.end() ? unmatched_index_ : it->second;
  Series* s = FindOrAddSeries(EncodeKey(MethodIndex(method), status, r));
  Bump(s->duration_sum_ns,
       static_cast<uint64_t>(duration_ns < 0 ? 0 : duration_ns));
  Bump(s->buckets[BucketIndex(duration_ns)]);
  Bump(slot_->requests_total);
  slot_->in_flight.store(slot_->in_flight.load(std::memory_order_relaxed) - 1,
                         std::memory_order_relaxed);
}

Series* SlotRecorder::FindOrAddSeries(uint64_t key) {
  size_t start = (key * 0x9E3779B97F4A7C15ull >> 57) % kMaxSeries;
  for (int probe = 0; probe < kMaxSeries - 1; ++probe) {
    Series& s = slot_->series[(start + probe) % (kMaxSeries - 1)];
    uint64_t k = s.key.load(std::memory_order_relaxed);
    if (k == key) return &s;
    if (k == 0) {
      // Counters are zero already; publishing the key makes the series
      // visible to the master's reads (acquire) with its label complete.
      s.key.store(key, std::memory_order_release);
      return &s;
    }
  }
  Series& overflow = slot_->series[kMaxSeries - 1];
  if (overflow.key.load(std::memory_order_relaxed) == 0) {
    overflow.key.store(
        EncodeKey(MethodIndex("_OTHER"), kOverflowStatus, unmatched_index_),
        std::memory_order_release);
  }
  return &overflow;
}

void RecordQueueWait(WorkerSlot& slot, overload::Priority priority,
                     int64_t waited_ns) {
  const auto c = static_cast<size_t>(priority);
  slot.queue_wait_sum_ns[c].fetch_add(static_cast<uint64_t>(waited_ns),
                                      std::memory_order_relaxed);
  slot.queue_wait_buckets[c][static_cast<size_t>(BucketIndex(waited_ns))]
      .fetch_add(1, std::memory_order_relaxed);
}

}  // namespace corral::region
