// The latencies of an app process's answers, from every proxy worker, for
// the one that sets its limit (proxy/limits.h): a ring in the app
// process's slot that many write and one reads. A writer takes an index
// with one fetch_add and stores one word; the reader takes what was
// written since it last looked. A word packs the lap it was written in, so
// the reader tells it from a stale one without a lock; one not yet stored
// when read is skipped, not waited for (its writer may have died between
// the two steps). Times are CLOCK_MONOTONIC, the same in every process.
#ifndef CORRAL_PROXY_LATENCY_RING_H_
#define CORRAL_PROXY_LATENCY_RING_H_

#include <cstdint>
#include <vector>

#include "overload/priority.h"
#include "region/shared_region.h"

namespace corral::proxy {

struct LatencySample {
  int64_t started_ns = 0;
  int64_t answered_ns = 0;
  overload::Priority priority = overload::Priority::kNormal;
};

// A request of class `priority` to the app process sent at `started_ns`
// had its answer's head at `answered_ns`. Microseconds are kept; a latency
// past 268 s counts as 268 s.
void PushLatency(region::WorkerSlot& app, int64_t started_ns,
                 int64_t answered_ns, overload::Priority priority);

class LatencyReader {
 public:
  // From what is written next: answers before are not this reader's.
  explicit LatencyReader(const region::WorkerSlot& app);

  // Appends the samples written since the last call (at most the ring's
  // size: older ones are overwritten), read at `now_ns`. A slot reset for a
  // new app process starts the reader from its beginning.
  void Read(const region::WorkerSlot& app, int64_t now_ns,
            std::vector<LatencySample>& out);

 private:
  uint64_t next_;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_LATENCY_RING_H_
