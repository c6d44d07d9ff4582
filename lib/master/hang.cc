// Supervisor::CheckHeartbeat: a ready worker whose heartbeat stopped. Kept
// apart from supervisor.cc, which calls it from CheckWorker.
//
// First the log line that says what the process is doing (hang_report.h)
// and the route it serves, and the stop signal, so an app that dumps its
// stack on it (Go on SIGQUIT, Python's faulthandler, a JVM) can; then,
// hang_stop_grace later (3 s), SIGKILL, whether it woke or not: its
// requests already waited past --worker-timeout.
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "log/log.h"
#include "master/hang_report.h"
#include "master/supervisor.h"

namespace corral::master {

void Supervisor::CheckHeartbeat(WorkerInfo& w) {
  const int64_t now = clock_.Now();
  if (w.hang_noticed_ns != 0) {
    if (now - w.hang_noticed_ns >=
        absl::ToInt64Nanoseconds(config_.hang_stop_grace)) {
      MurderWorker(w, RetireReason::kTimeout,
                   "worker killed after --worker-timeout");
    }
    return;
  }
  const region::WorkerSlot& slot = region_.slot(w.slot);
  const int64_t beat = slot.heartbeat_ns.load(std::memory_order_relaxed);
  w.hang_noticed_ns = now;
  w.reason = RetireReason::kTimeout;
  log::Error(
      "worker stopped making progress (no heartbeat)",
      {{"pool", config_.name},
       {"worker", w.index},
       {"worker_pid", w.pid},
       {"silent_seconds", static_cast<double>(now - beat) / 1e9},
       {"serving_path", region::LoadPath(slot)},
       {"in_flight", slot.in_flight.load(std::memory_order_relaxed)},
       {"process", DescribeProcess(config_.proc_root, w.pid)},
       {"next", absl::StrCat("stop signal sent; SIGKILL in ",
                             absl::FormatDuration(config_.hang_stop_grace))}});
  control_.SendStopSignal(w.pid);
}

}  // namespace corral::master
