// Least-busy routing over the app processes, on numbers every proxy worker
// shares: each proxy worker counts its requests in flight to each app
// process in its own slot, and the load of an app process is the sum over
// the proxy workers' slots.
#ifndef CORRAL_PROXY_BALANCER_H_
#define CORRAL_PROXY_BALANCER_H_

#include <cstdint>
#include <optional>

#include "region/shared_region.h"

namespace corral::proxy {

using region::SlotRange;

// Whether the app process in `app_slot` takes new requests: ready, with
// its port known.
bool Routable(const region::WorkerSlot& app);

class Balancer {
 public:
  // `cap`: most requests in flight per app process (0 = no cap).
  Balancer(const region::SharedRegion& region, SlotRange apps,
           SlotRange proxies, int own_slot, int cap);

  // Takes a place on the routable app process with the fewest requests in
  // flight (ties go round in turn), skipping `exclude`; nothing when every
  // one is at the cap or none is routable. Counted until Release.
  std::optional<int> Acquire(int exclude = -1);
  void Release(int app_slot);
  // Whether any app process is routable at all (full or not).
  bool AnyRoutable() const;

 private:
  const region::SharedRegion& region_;
  SlotRange apps_;
  SlotRange proxies_;
  region::WorkerSlot& own_;
  int cap_;
  unsigned turn_ = 0;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_BALANCER_H_
