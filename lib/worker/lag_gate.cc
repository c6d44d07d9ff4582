#include "worker/lag_gate.h"

#include <time.h>

#include <algorithm>
#include <string>

#include "clock/clock.h"
#include "log/log.h"

namespace corral::worker {
namespace {

// Not wall time: while the kernel runs other processes the loop does no
// work of its own, and shedding would not give that time back.
int64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

LagGate::LagGate(boost::asio::io_context& io, region::WorkerSlot& slot,
                 overload::PriorityRules rules, std::chrono::nanoseconds target,
                 std::chrono::nanoseconds interval)
    : probe_(io),
      slot_(slot),
      rules_(std::move(rules)),
      shedder_(target.count(), interval.count()) {}

void LagGate::Start() { OnProbe(); }

void LagGate::Stop() { probe_.cancel(); }

void LagGate::OnProbe() {
  const bool was_behind = shedder_.behind();
  const int64_t lag = LagNow();
  probe_cpu_ns_ = ThreadCpuNanos();
  shedder_.OnProbe(clock::MonotonicNanos(), lag);
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

int64_t LagGate::LagNow() const {
  return std::max<int64_t>(0,
                           ThreadCpuNanos() - probe_cpu_ns_ -
                               std::chrono::nanoseconds(kProbePeriod).count());
}

bool LagGate::Admit(const http::Request& request) {
  const overload::Priority p =
      rules_.Classify(request.method, request.RawPath());
  if (shedder_.Admit(p, clock::MonotonicNanos(), LagNow())) return true;
  slot_.lag_shed_total[static_cast<size_t>(p)].fetch_add(
      1, std::memory_order_relaxed);
  return false;
}

}  // namespace corral::worker
