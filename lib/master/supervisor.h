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

  SupervisorConfig config_;
  ProcessControl& control_;
  region::SharedRegion& region_;
  const clock::Clock& clock_;
  std::function<void(int)> slot_retired_;

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
  int64_t drain_at_ns_ = 0;
  int exit_code_ = 0;
  pool::PoolCounts counts_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_SUPERVISOR_H_
