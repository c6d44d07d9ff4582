#include "proxy/balancer.h"

#include <bitset>
#include <limits>

namespace corral::proxy {

bool Routable(const region::WorkerSlot& app) {
  return app.state.load(std::memory_order_seq_cst) ==
             static_cast<uint32_t>(region::SlotState::kReady) &&
         app.upstream_port.load(std::memory_order_acquire) != 0;
}

Balancer::Balancer(const region::SharedRegion& region, SlotRange apps,
                   SlotRange proxies, int own_slot, int cap, int own_limit,
                   bool adaptive, int unmeasured)
    : region_(region),
      apps_(apps),
      proxies_(proxies),
      own_(region.slot(own_slot)),
      cap_(cap),
      own_limit_(own_limit),
      adaptive_(adaptive),
      unmeasured_(unmeasured) {}

bool Balancer::HasRoom(int app_slot, overload::Priority priority,
                       int extra) const {
  if (cap_ > 0 && RequestLoad(app_slot) + extra > cap_) return false;
  if (!adaptive_) return true;
  const int limit =
      region_.slot(app_slot).class_limit[static_cast<size_t>(priority)].load(
          std::memory_order_relaxed);
  return region::UpstreamClassInFlight(region_, proxies_, app_slot, priority) +
             extra <=
         (limit > 0 ? limit : unmeasured_);
}

bool Balancer::AnyRoutable() const {
  for (int a = apps_.first; a < apps_.first + apps_.count; ++a) {
    if (Routable(region_.slot(a))) return true;
  }
  return false;
}

std::optional<int> Balancer::Acquire(int exclude, overload::Priority priority) {
  // Each pass takes the least loaded candidate; one that turns out full or
  // no longer ready once our count is in is dropped and the next tried.
  std::bitset<region::kMaxUpstreams> tried;
  const unsigned start = turn_++;
  for (int pass = 0; pass < apps_.count; ++pass) {
    int best = -1;
    int64_t best_load = std::numeric_limits<int64_t>::max();
    for (int k = 0; k < apps_.count; ++k) {
      int i = static_cast<int>((start + static_cast<unsigned>(k)) %
                               static_cast<unsigned>(apps_.count));
      int a = apps_.first + i;
      if (a == exclude || tried[static_cast<size_t>(a)]) continue;
      // Tunnels are open for as long as the client likes: they count for
      // the app's stop, not against the caps on requests.
      if (!Routable(region_.slot(a)) ||
          own_.upstream_in_flight[a].load(std::memory_order_relaxed) -
                  own_.upstream_tunnels[a].load(std::memory_order_relaxed) >=
              own_limit_) {
        continue;
      }
      if (!HasRoom(a, priority, 1)) continue;
      const int64_t load = RequestLoad(a);
      if (load < best_load) {
        best = a;
        best_load = load;
      }
    }
    if (best < 0) return std::nullopt;
    // Count first, then check again: the master marks a process draining
    // first and reads the counts after, so one of the two sides sees the
    // other and no request reaches a process after it was told to stop.
    own_.upstream_in_flight[best].fetch_add(1, std::memory_order_seq_cst);
    ClassCount(best, priority).fetch_add(1, std::memory_order_seq_cst);
    if (Routable(region_.slot(best)) && HasRoom(best, priority, 0)) {
      // The app process's own count of requests sent to it, which the
      // master reads for --max-requests (the process writes no slot).
      region_.slot(best).requests_total.fetch_add(1, std::memory_order_relaxed);
      return best;
    }
    ClassCount(best, priority).fetch_sub(1, std::memory_order_seq_cst);
    own_.upstream_in_flight[best].fetch_sub(1, std::memory_order_seq_cst);
    tried[static_cast<size_t>(best)] = true;
  }
  return std::nullopt;
}

void Balancer::Release(int app_slot, overload::Priority priority) {
  ClassCount(app_slot, priority).fetch_sub(1, std::memory_order_seq_cst);
  own_.upstream_in_flight[app_slot].fetch_sub(1, std::memory_order_seq_cst);
}

void Balancer::BecameTunnel(int app_slot, overload::Priority priority) {
  own_.upstream_tunnels[app_slot].fetch_add(1, std::memory_order_seq_cst);
  ClassCount(app_slot, priority).fetch_sub(1, std::memory_order_seq_cst);
}

void Balancer::ReleaseTunnel(int app_slot) {
  own_.upstream_tunnels[app_slot].fetch_sub(1, std::memory_order_seq_cst);
  own_.upstream_in_flight[app_slot].fetch_sub(1, std::memory_order_seq_cst);
}

std::atomic<int32_t>& Balancer::ClassCount(int app_slot,
                                           overload::Priority priority) {
  return own_.upstream_class_in_flight[static_cast<size_t>(app_slot)]
                                      [static_cast<size_t>(priority)];
}

int64_t Balancer::RequestLoad(int app_slot) const {
  return region::UpstreamInFlight(region_, proxies_, app_slot) -
         region::UpstreamTunnels(region_, proxies_, app_slot);
}

}  // namespace corral::proxy
