#include "worker/lag_gate.h"

#include <string>

#include "clock/clock.h"
#include "log/log.h"

namespace corral::worker {

LagGate::LagGate(boost::asio::io_context& io, region::WorkerSlot& slot,
                 overload::PriorityRules rules, std::chrono::nanoseconds target,
                 std::chrono::nanoseconds interval)
    : probe_(io),
      slot_(slot),
      rules_(std::move(rules)),
      shedder_(target.count(), interval.count(),
               std::chrono::nanoseconds(kProbePeriod).count()) {}

void LagGate::Start() { OnProbe(); }

void LagGate::Stop() { probe_.cancel(); }

void LagGate::OnProbe() {
  const bool was_behind = shedder_.behind();
  shedder_.OnProbe(clock::MonotonicNanos());
  shedding_ = shedder_.behind();
  slot_.loop_lag_ns.store(shedder_.lag_ns(), std::memory_order_relaxed);
  const double lag_seconds = static_cast<double>(shedder_.lag_ns()) / 1e9;
  if (shedding_ && (!was_behind || shedder_.floor() != floor_)) {
    log::Warn(
        "event loop behind: shedding requests of the lowest class arriving "
        "with 503 while it is late (--shed-on-lag)",
        {{"lag_seconds", lag_seconds},
         {"shed_outright_below",
          std::string(overload::Name(shedder_.floor()))}});
  } else if (was_behind && !shedding_) {
    log::Info("event loop caught up: no longer shedding",
              {{"lag_seconds", lag_seconds}});
  }
  floor_ = shedder_.floor();
  probe_.expires_after(kProbePeriod);
  probe_.async_wait([this](boost::system::error_code ec) {
    if (!ec) OnProbe();
  });
}

bool LagGate::Admit(const http::Request& request) {
  const overload::Priority p =
      rules_.Classify(request.method, request.RawPath());
  if (shedder_.Admit(p, clock::MonotonicNanos())) return true;
  slot_.lag_shed_total[static_cast<size_t>(p)].fetch_add(
      1, std::memory_order_relaxed);
  return false;
}

}  // namespace corral::worker
