// Adaptive concurrency in proxy mode: one limit per app process and class
// of request, shared by every proxy worker through the app process's slot
// (WorkerSlot::class_limit, their sum in concurrency_limit), which the
// balancer reads as that process's caps. A class per limit: a checkout
// waiting on its payment holds a place for 50 ms without loading the app,
// a page a fraction of a millisecond with all of it; under one limit the
// checkouts, served first, took the places the pages needed to keep the
// app busy, or the pages' queueing cut the checkouts' places (3-6% of
// checkouts shed at twice the app's capacity). One proxy worker owns the
// limits: the ready one in the lowest slot. Every proxy worker writes the
// latencies of its answers into the app process's slot (latency_ring.h);
// the owner feeds them all to a GradientLimiter per app process and class
// and writes the limits, the others only read them. One writer keeps each
// limit one number, and a minRTT probe pins the class on the whole
// process, as a probe must, whichever proxy worker's requests take the
// probe's places. A new owner (after a roll of the proxy workers) and a new
// app process (its slot zeroed) start with a probe.
#ifndef CORRAL_PROXY_LIMITS_H_
#define CORRAL_PROXY_LIMITS_H_

#include <cstdint>
#include <map>
#include <vector>

#include "overload/limiter.h"
#include "overload/priority.h"
#include "proxy/latency_ring.h"
#include "region/shared_region.h"

namespace corral::proxy {

using region::SlotRange;

class Limits {
 public:
  Limits(const region::SharedRegion& region, SlotRange apps, SlotRange proxies,
         int own_slot, overload::LimiterSettings settings);

  // A request of class `priority` to `app` sent at `started_ns` had its
  // answer's head at `answered_ns`: recorded for the owner, whichever
  // proxy worker this is.
  void OnAnswer(int app, int64_t started_ns, int64_t answered_ns,
                overload::Priority priority = overload::Priority::kNormal);
  // Moves the limits when this proxy worker owns them.
  void Tick(int64_t now_ns);
  bool owner() const { return owner_; }

 private:
  bool OwnsLimits() const;

  struct AppLimit {
    std::vector<overload::GradientLimiter> classes;  // by Priority
    LatencyReader answers;
  };

  const region::SharedRegion& region_;
  SlotRange apps_;
  SlotRange proxies_;
  int own_slot_;
  overload::LimiterSettings settings_;
  bool owner_ = false;
  std::map<int, AppLimit> limits_;  // by app slot
  std::vector<LatencySample> read_;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_LIMITS_H_
