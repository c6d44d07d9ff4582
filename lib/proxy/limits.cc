#include "proxy/limits.h"

#include "log/log.h"
#include "proxy/balancer.h"

namespace corral::proxy {

Limits::Limits(const region::SharedRegion& region, SlotRange apps,
               SlotRange proxies, int own_slot,
               overload::LimiterSettings settings)
    : region_(region),
      apps_(apps),
      proxies_(proxies),
      own_slot_(own_slot),
      settings_(settings) {}

bool Limits::OwnsLimits() const {
  for (int p = proxies_.first; p < proxies_.first + proxies_.count; ++p) {
    if (region_.slot(p).state.load(std::memory_order_acquire) ==
        static_cast<uint32_t>(region::SlotState::kReady)) {
      return p == own_slot_;
    }
  }
  return false;
}

void Limits::OnAnswer(int app, int64_t started_ns, int64_t answered_ns) {
  if (!owner_) return;
  auto it = limiters_.find(app);
  if (it != limiters_.end()) it->second.OnSample(started_ns, answered_ns);
}

void Limits::Tick(int64_t now_ns) {
  const bool owner = OwnsLimits();
  if (owner != owner_) {
    log::Info(owner ? "this proxy worker now sets the app processes' "
                      "concurrency limits"
                    : "this proxy worker no longer sets the app processes' "
                      "concurrency limits",
              {{"slot", own_slot_}});
    owner_ = owner;
    limiters_.clear();  // a new owner measures afresh
  }
  if (!owner_) return;
  for (int a = apps_.first; a < apps_.first + apps_.count; ++a) {
    region::WorkerSlot& app = region_.slot(a);
    auto it = limiters_.find(a);
    // A zeroed limit is a new app process in the slot (or none yet).
    if (it != limiters_.end() &&
        app.concurrency_limit.load(std::memory_order_relaxed) == 0) {
      limiters_.erase(it);
      it = limiters_.end();
    }
    if (!Routable(app)) continue;
    if (it == limiters_.end()) {
      it = limiters_.try_emplace(a, settings_, now_ns).first;
      // A new process of the same app (a roll, a crash) starts where its
      // siblings are, not from the minimum under their load.
      for (const auto& [slot, sibling] : limiters_) {
        if (slot != a && sibling.min_rtt_ns() > 0) {
          it->second.Seed(sibling.limit(), sibling.min_rtt_ns());
          break;
        }
      }
    }
    const int before = app.concurrency_limit.load(std::memory_order_relaxed);
    const int limit = it->second.Update(
        now_ns, region::UpstreamInFlight(region_, proxies_, a) -
                    region::UpstreamTunnels(region_, proxies_, a));
    if (limit != before) {
      app.concurrency_limit.store(limit, std::memory_order_relaxed);
    }
    if (it->second.probed()) {
      app.min_rtt_ns.store(it->second.min_rtt_ns(), std::memory_order_relaxed);
    }
  }
}

}  // namespace corral::proxy
