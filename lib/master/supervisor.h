// The master's brain: owns the worker table and the pool's state machine
// (starting, serving, rolling, drain delay, draining, stopped). Driven only
// from the master's event loop; time comes from the injected clock and the
// world is changed only through ProcessControl, so unit tests drive it with a
// fake clock and fake processes.
#ifndef CORRAL_MASTER_SUPERVISOR_H_
#define CORRAL_MASTER_SUPERVISOR_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clock/clock.h"
#include "master/backoff.h"
#include "pool/pool.h"
#include "region/shared_region.h"

namespace corral::master {

using pool::PoolState;
using pool::RetireReason;
using pool::RollResult;
using pool::WorkerPhase;

using pool::ProcessControl;

struct SupervisorConfig {
  int workers = 1;
  absl::Duration drain_delay = absl::Seconds(5);
  // Readiness stays up through the drain delay (--readiness-at-term=serve)
  // instead of failing at the shutdown request.
  bool ready_through_drain_delay = false;
  absl::Duration drain_timeout = absl::Seconds(20);
  absl::Duration worker_start_timeout = absl::Seconds(30);
  absl::Duration worker_timeout = absl::Seconds(30);
  // A hung worker gets the stop signal, then SIGKILL this much later.
  absl::Duration hang_stop_grace = absl::Seconds(3);
  // Where a hung worker's /proc entries are read (hang_report.h).
  std::string proc_root = "/proc";
  int crash_loop_limit = 5;
  Backoff backoff;
  // The region's slots this pool's workers use; count 0: all of them.
  region::SlotRange slots;
  // How the logs name this pool's workers.
  std::string name = "worker";
};

struct WorkerInfo {
  int index = 0;
  int slot = 0;
  pid_t pid = 0;
  int64_t generation = 0;
  int64_t epoch = 0;  // the roll it was started for
  WorkerPhase phase = WorkerPhase::kStarting;
  int64_t spawned_ns = 0;
  int64_t ready_ns = 0;
  int64_t drain_started_ns = 0;
  int64_t started_unix_ns = 0;
  bool killed = false;
  int64_t hang_noticed_ns = 0;  // its heartbeat stopped; stop signal sent
  bool replacement = false;     // started by a roll next to a serving worker
  RetireReason reason = RetireReason::kNone;
};

// How the last roll went, for logs and /status.
struct RollRecord {
  RollResult result = RollResult::kSuccess;
  std::string reason;  // what asked for the roll
  std::string error;
  int64_t generation = 0;
  absl::Duration duration;
  int64_t finished_unix_ns = 0;
};

// How a recycle replaces its worker (see Supervisor::RequestRecycle).
enum class RecycleOrder {
  // A replacement starts for the worker's seat; the worker drains once the
  // replacement is ready, so capacity never drops.
  kReplacementFirst,
  // The worker drains first; its replacement starts when it has exited.
  // For when there is no memory for both at once: one seat is empty for a
  // moment (connections wait in the accept queue, or proxy mode's queue).
  kDrainFirst,
};
std::string_view Name(RecycleOrder order);

// How a shutdown request asks to stop.
enum class Shutdown {
  // SIGTERM, SIGINT: the drain delay first; a second request skips the rest
  // of it.
  kGraceful,
  // SIGQUIT: no drain delay.
  kSkipDelay,
};

class Supervisor : public pool::PoolView {
 public:
  Supervisor(SupervisorConfig config, ProcessControl& control,
             region::SharedRegion& region, const clock::Clock& clock);

  // Called with a worker's slot right before the slot is reset for reuse,
  // so its counters can be folded into the retired totals.
  void OnSlotRetired(std::function<void(int slot)> f) {
    slot_retired_ = std::move(f);
  }

  void Start();
  // Readiness, heartbeats, deadlines, restarts and the next roll step.
  void Tick();
  // Returns false when `pid` was not one of our workers (an orphan).
  bool OnChildExit(pid_t pid, int status);
  void RequestRoll(std::string reason,
                   std::optional<int64_t> generation = std::nullopt);
  void RequestShutdown(Shutdown how, std::string reason);
  // A new worker count (the pod's CPUs changed): new workers start at once,
  // surplus ones drain one at a time, the last seat first. Waits while the
  // pool starts or rolls; ignored once it shuts down. Capped by the slots
  // the pool has room for. See resize.cc.
  void Resize(int workers, std::string reason);

  // Recycling (supervisor_recycle.cc): a worker replaced for what it has
  // become (memory, age, requests served, a stuck request), drained as a
  // roll drains its old workers: SIGTERM through ProcessControl (the stop
  // signal; in proxy mode no new requests, then the stop signal once those
  // in flight are answered). Any part of the master may ask; Tick honours
  // one request at a time per pool, oldest first, only while the pool
  // serves with every seat up, so capacity never drops by more than one
  // worker. A roll or a shutdown takes precedence and drops the requests
  // (a roll replaces every worker anyway). Asking again for a pid already
  // asked for changes nothing. Returns false when `pid` is not a ready
  // worker of this pool, or the pool shuts down.
  bool RequestRecycle(pid_t pid, RetireReason reason, RecycleOrder order,
                      std::string why);
  // A recycle is under way (until the recycled worker has exited) or asked
  // for.
  bool RecycleBusy() const { return recycle_ || !recycle_wanted_.empty(); }
  // Asked when a worker dies of a SIGKILL corral did not send: the memory
  // figures for the log when the kernel's OOM killer sent it (the exit is
  // then counted as reason oom), nullopt otherwise.
  void OnUnexpectedKill(
      std::function<std::optional<nlohmann::json>(pid_t pid)> f) {
    oom_check_ = std::move(f);
  }

  bool Finished() const { return state_ == PoolState::kStopped; }
  int ExitCode() const { return exit_code_; }
  // The config generations a worker runs or may be started with.
  std::set<int64_t> GenerationsInUse() const;

  // pool::PoolView
  pool::ProbeResult Live() const override;
  pool::ProbeResult Ready() const override;
  pool::ProbeResult Started() const override;
  PoolState state() const override { return state_; }
  int workers_wanted() const override { return config_.workers; }
  int64_t generation() const override { return generation_; }
  std::vector<pool::WorkerView> Workers() const override;
  const pool::PoolCounts& counts() const override { return counts_; }
  nlohmann::json StatusJson() const override;

  int64_t stable_generation() const { return stable_generation_; }
  const std::map<pid_t, WorkerInfo>& workers() const { return workers_; }
  const std::optional<RollRecord>& last_roll() const { return last_roll_; }

 private:
  struct Seat {
    pid_t serving = 0;   // the ready worker in this position
    pid_t starting = 0;  // a worker on its way up for this position
    int failures = 0;    // consecutive, reset once a worker stays up
    int64_t restart_at_ns = 0;
    bool restart_pending = false;
  };
  struct RecycleRequest {
    pid_t pid = 0;
    RetireReason reason = RetireReason::kNone;
    RecycleOrder order = RecycleOrder::kReplacementFirst;
    std::string why;
  };
  struct Recycle {
    RecycleRequest request;
    int index = 0;
    int64_t started_ns = 0;
  };
  struct Roll {
    int64_t generation = 0;
    int64_t epoch = 0;
    int64_t started_ns = 0;
    std::string reason;
  };

  bool ShuttingDown() const {
    return state_ == PoolState::kDrainDelay || state_ == PoolState::kDraining ||
           state_ == PoolState::kStopped;
  }
  void SpawnWorker(int index, bool replacement);
  void ReadyWorker(WorkerInfo& w);
  void MurderWorker(WorkerInfo& w, RetireReason reason, std::string_view why);
  void DrainWorker(WorkerInfo& w, RetireReason reason);
  void CheckWorker(WorkerInfo& w);
  void ManageSeats();
  void BeginRoll(std::string reason);
  void AdvanceRoll();
  bool RollStepClosing() const;
  void FinishRoll(RollResult result, std::string error);
  void BeginDrain();
  void StopIfEmpty();
  void ScheduleRestart(int index);
  std::optional<int> TakeSlot();
  // hang.cc: a ready worker's heartbeat stopped.
  void CheckHeartbeat(WorkerInfo& w);
  // resize.cc: the next step of a resize, from Tick.
  void ApplyResize();
  bool SeatHasWorker(int index) const;
  // Recycling (supervisor_recycle.cc).
  void AdvanceRecycle();
  void BeginRecycle(RecycleRequest request);
  void DropRecycleRequests(std::string_view why);
  // Why the old worker of a seat drains once its replacement is ready.
  RetireReason ReplacedReason(pid_t old) const;
  // OnChildExit's part: a recycled worker or its replacement exited.
  void RecycleExited(const WorkerInfo& w, bool replacement_failed);
  // The figures when the kernel's OOM killer ended `w`.
  std::optional<nlohmann::json> OomKill(const WorkerInfo& w, int status) const;
  nlohmann::json RecycleJson() const;

  SupervisorConfig config_;
  ProcessControl& control_;
  region::SharedRegion& region_;
  const clock::Clock& clock_;
  std::function<void(int)> slot_retired_;
  std::function<std::optional<nlohmann::json>(pid_t)> oom_check_;

  // The one truth about the pool; roll_ and drain_at_ns_ are the data of
  // the rolling and drain-delay states.
  PoolState state_ = PoolState::kStarting;
  std::map<pid_t, WorkerInfo> workers_;
  std::vector<Seat> seats_;
  std::vector<bool> slot_used_;
  int64_t generation_ = 1;
  // The generation the serving workers run: a failed roll falls back to it,
  // so a crashed worker restarts with a config known to start.
  int64_t stable_generation_ = 1;
  int64_t epoch_ = 0;
  std::optional<Roll> roll_;
  // A roll asked for during start-up runs once the pool serves.
  std::optional<std::string> pending_roll_;
  std::optional<RollRecord> last_roll_;
  // A worker count waiting for the pool to serve (see Resize).
  struct PendingResize {
    int workers = 0;
    std::string reason;
  };
  std::optional<PendingResize> pending_resize_;
  // The recycle under way, and those asked for, oldest first.
  std::optional<Recycle> recycle_;
  std::vector<RecycleRequest> recycle_wanted_;
  int64_t drain_at_ns_ = 0;
  int exit_code_ = 0;
  pool::PoolCounts counts_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_SUPERVISOR_H_
