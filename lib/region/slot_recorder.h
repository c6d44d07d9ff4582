// A worker's side of its own slot: state, heartbeat and request metrics.
// Nothing else writes these fields while the worker lives, so an add is a
// relaxed load and store (no locked instruction); the state and the route
// names are published with release. Proxy mode's proxy workers write other
// fields of their slot (their counts per app process, seq_cst: see
// proxy/balancer.cc), and the master writes the slot of a command's copy,
// which has no SlotRecorder.
#ifndef CORRAL_REGION_SLOT_RECORDER_H_
#define CORRAL_REGION_SLOT_RECORDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "overload/priority.h"
#include "region/shared_region.h"

namespace corral::region {

class SlotRecorder {
 public:
  explicit SlotRecorder(WorkerSlot* slot) : slot_(slot) {}

  // Route labels, in order; their index is what series keys carry. The
  // unmatched label is added last. Call before the slot turns ready.
  void PublishRoutes(const std::vector<std::string>& routes,
                     std::string_view unmatched);
  void SetState(SlotState state);
  void Heartbeat();
  void SetConnections(size_t open);

  void RequestStarted(std::string_view path);
  void RequestFinished(std::string_view method, std::string_view route,
                       int status, int64_t duration_ns);
  // A request passed --request-deadline; `recycle`: ask the master to
  // recycle this worker.
  void RequestPastDeadline(bool recycle);

 private:
  Series* FindOrAddSeries(uint64_t key);

  // Looked up by string_view: no string is built per request.
  struct RouteHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>{}(s);
    }
  };

  WorkerSlot* slot_;
  std::unordered_map<std::string, int, RouteHash, std::equal_to<>> route_index_;
  int unmatched_index_ = 0;
};

// Where a duration falls among kDurationBounds (kBuckets - 1 for +Inf).
int BucketIndex(int64_t duration_ns);

// Proxy mode: one request's wait in a proxy worker's admission queue, into
// that worker's slot (sum and histogram of its class).
void RecordQueueWait(WorkerSlot& slot, overload::Priority priority,
                     int64_t waited_ns);

}  // namespace corral::region

#endif  // CORRAL_REGION_SLOT_RECORDER_H_
