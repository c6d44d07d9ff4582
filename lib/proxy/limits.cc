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

void Limits::OnAnswer(int app, int64_t started_ns, int64_t answered_ns,
                      overload::Priority priority) {
  PushLatency(region_.slot(app), started_ns, answered_ns, priority);
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
    limits_.clear();  // a new owner measures afresh
  }
  if (!owner_) return;
  for (int a = apps_.first; a < apps_.first + apps_.count; ++a) {
    region::WorkerSlot& app = region_.slot(a);
    auto it = limits_.find(a);
    // A zeroed limit is a new app process in the slot (or none yet).
    if (it != limits_.end() &&
        app.concurrency_limit.load(std::memory_order_relaxed) == 0) {
      limits_.erase(it);
      it = limits_.end();
    }
    if (!Routable(app)) continue;
    if (it == limits_.end()) {
      std::vector<overload::GradientLimiter> classes;
      for (int c = 0; c < overload::kPriorities; ++c) {
        classes.emplace_back(settings_, now_ns);
      }
      it = limits_
               .try_emplace(a, AppLimit{std::move(classes), LatencyReader(app)})
               .first;
      // A new process of the same app (a roll, a crash) starts where its
      // siblings are, not from the minimum under their load: seeded from
      // the first sibling that measured any class.
      for (const auto& [slot, sibling] : limits_) {
        if (slot == a) continue;
        bool measured = false;
        for (size_t c = 0; c < sibling.classes.size(); ++c) {
          const overload::GradientLimiter& known = sibling.classes[c];
          if (known.min_rtt_ns() > 0) {
            it->second.classes[c].Seed(known.limit(), known.min_rtts());
            measured = true;
          }
        }
        if (measured) break;
      }
    }
    std::vector<overload::GradientLimiter>& classes = it->second.classes;
    read_.clear();
    it->second.answers.Read(app, now_ns, read_);
    for (const LatencySample& s : read_) {
      classes[static_cast<size_t>(s.priority)].OnSample(
          s.started_ns, s.answered_ns, s.priority);
    }
    int total = 0;
    int64_t min_rtt = 0;
    for (size_t c = 0; c < classes.size(); ++c) {
      const auto priority = static_cast<overload::Priority>(c);
      const int limit = classes[c].Update(
          now_ns,
          region::UpstreamClassInFlight(region_, proxies_, a, priority));
      if (app.class_limit[c].load(std::memory_order_relaxed) != limit) {
        app.class_limit[c].store(limit, std::memory_order_relaxed);
      }
      total += limit;
      if (classes[c].probed() && classes[c].min_rtt_ns() > 0 &&
          (min_rtt == 0 || classes[c].min_rtt_ns() < min_rtt)) {
        min_rtt = classes[c].min_rtt_ns();
      }
    }
    if (app.concurrency_limit.load(std::memory_order_relaxed) != total) {
      app.concurrency_limit.store(total, std::memory_order_relaxed);
    }
    if (min_rtt > 0) app.min_rtt_ns.store(min_rtt, std::memory_order_relaxed);
  }
}

}  // namespace corral::proxy
