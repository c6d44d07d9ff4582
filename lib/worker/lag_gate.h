// --shed-on-lag in a C++ app's worker: a timer due every probe period
// measures how late the event loop's own work makes it, in the thread's
// CPU time (overload::LagShedder decides from it), and while the loop is
// behind each routed request is classified by --priority and served or
// answered 503, counted in the worker's slot.
#ifndef CORRAL_WORKER_LAG_GATE_H_
#define CORRAL_WORKER_LAG_GATE_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "http/admission_gate.h"
#include "overload/lag_shedder.h"
#include "overload/priority.h"
#include "region/shared_region.h"

namespace corral::worker {

class LagGate final : public http::AdmissionGate {
 public:
  // Fine enough to see a 50 ms target; 100 timer runs a second cost
  // nothing a worker can measure.
  static constexpr std::chrono::milliseconds kProbePeriod{10};

  LagGate(boost::asio::io_context& io, region::WorkerSlot& slot,
          overload::PriorityRules rules, std::chrono::nanoseconds target,
          std::chrono::nanoseconds interval);

  void Start();
  void Stop();
  bool Admit(const http::Request& request) override;

 private:
  void OnProbe();
  // The loop's own work since the probe last ran, past the probe period.
  int64_t LagNow() const;

  boost::asio::steady_timer probe_;
  region::WorkerSlot& slot_;
  overload::PriorityRules rules_;
  overload::LagShedder shedder_;
  overload::Priority floor_ = overload::Priority::kLow;
  int64_t probe_cpu_ns_ = 0;  // the thread's CPU time when the probe ran
};

}  // namespace corral::worker

#endif  // CORRAL_WORKER_LAG_GATE_H_
