// Least-busy routing over the app processes, on numbers every proxy worker
// shares: each proxy worker counts its requests in flight to each app
// process in its own slot, and the load of an app process is the sum over
// the proxy workers' slots.
#ifndef CORRAL_PROXY_BALANCER_H_
#define CORRAL_PROXY_BALANCER_H_

#include <cstdint>
#include <optional>

#include "overload/priority.h"
#include "region/shared_region.h"

namespace corral::proxy {

using region::SlotRange;

// Whether the app process in `app_slot` takes new requests: ready, with
// its port known.
bool Routable(const region::WorkerSlot& app);

class Balancer {
 public:
  // `cap`: most requests in flight per app process (0 = no cap);
  // `own_limit`: most of them from this proxy worker (each holds an
  // upstream connection, and descriptors are finite). `adaptive`: each
  // class of request has its own cap on each app process, its class_limit
  // in the slot (limits.h), `unmeasured` while that is 0; `cap` bounds
  // their sum.
  Balancer(const region::SharedRegion& region, SlotRange apps,
           SlotRange proxies, int own_slot, int cap, int own_limit,
           bool adaptive = false, int unmeasured = 1);

  // Takes a place for a request of class `priority` on the routable app
  // process with the fewest requests in flight (ties go round in turn),
  // skipping `exclude`; nothing when every one is at its cap or none is
  // routable. Counted until Release.
  std::optional<int> Acquire(int exclude = -1, overload::Priority priority =
                                                   overload::Priority::kNormal);
  void Release(int app_slot,
               overload::Priority priority = overload::Priority::kNormal);
  // A place taken by Acquire became a tunnel (a WebSocket after 101): still
  // in flight for the app process's stop, no longer counted against `cap`,
  // its class's cap or `own_limit`. Let go with ReleaseTunnel.
  void BecameTunnel(int app_slot,
                    overload::Priority priority = overload::Priority::kNormal);
  void ReleaseTunnel(int app_slot);
  // Whether any app process is routable at all (full or not).
  bool AnyRoutable() const;

 private:
  // Requests in flight to an app process from every proxy worker, tunnels
  // left out.
  int64_t RequestLoad(int app_slot) const;
  // Whether an app process has room for one more request of `priority`,
  // counting `extra` of them not in the shared counts yet.
  bool HasRoom(int app_slot, overload::Priority priority, int extra) const;
  // This proxy worker's count of requests of `priority` to an app process.
  std::atomic<int32_t>& ClassCount(int app_slot, overload::Priority priority);

  const region::SharedRegion& region_;
  SlotRange apps_;
  SlotRange proxies_;
  region::WorkerSlot& own_;
  int cap_;
  int own_limit_;
  bool adaptive_;
  int unmeasured_;
  unsigned turn_ = 0;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_BALANCER_H_
