// The master's brain: owns the worker table and the pool's state machine
// (starting, serving, rolling, draining, stopped). Driven only from the
// master's event loop, with the time passed in, so tests can drive it with a
// fake clock and fake processes.
#ifndef CORRAL_MASTER_SUPERVISOR_H_
#define CORRAL_MASTER_SUPERVISOR_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "master/backoff.h"
#include "region/shared_region.h"

namespace corral::master {

// How the supervisor acts on the world; the real one forks and kills.
class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  virtual absl::StatusOr<pid_t> StartWorker(int index, int slot,
                                            int64_t generation) = 0;
  virtual void Signal(pid_t pid, int signal) = 0;
};

struct SupervisorConfig {
  int workers = 1;
  absl::Duration drain_delay = absl::Seconds(5);
  absl::Duration drain_timeout = absl::Seconds(20);
  absl::Duration worker_start_timeout = absl::Seconds(30);
  absl::Duration worker_timeout = absl::Seconds(30);
  int crash_loop_limit = 5;
  Backoff backoff;
};

enum class PoolState { kStarting, kServing, kRolling, kDraining, kStopped };
std::string_view PoolStateName(PoolState s);

// Why a worker left, for logs and metrics.
enum class RetireReason {
  kNone,
  kCrash,
  kTimeout,
  kStartFailed,
  kRoll,
  kShutdown
};
std::string_view RetireReasonName(RetireReason r);

struct WorkerInfo {
  int index = 0;
  int slot = 0;
  pid_t pid = 0;
  int64_t generation = 0;
  enum class Phase { kStarting, kReady, kDraining } phase = Phase::kStarting;
  int64_t spawned_ns = 0;
  int64_t ready_ns = 0;
  int64_t drain_started_ns = 0;
  int64_t started_unix_ns = 0;
  bool killed = false;
  bool replacement = false;  // started by a roll next to a serving worker
  RetireReason reason = RetireReason::kNone;
};
std::string_view WorkerPhaseName(WorkerInfo::Phase p);

struct RollResult {
  std::string result;  // "success", "failed", "superseded", "aborted"
  std::string reason;  // what asked for the roll
  std::string error;
  int64_t generation = 0;
  absl::Duration duration;
  int64_t finished_unix_ns = 0;
};

inline constexpr std::array<double, 10> kRolloutBounds = {
    0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

// Counts the supervisor keeps for metrics.
struct SupervisorCounts {
  std::map<std::string, uint64_t> restarts;  // by RetireReason name
  std::map<std::string, uint64_t> rollouts;  // by result
  // How long finished rolls took: buckets over kRolloutBounds (+Inf last).
  std::array<uint64_t, kRolloutBounds.size() + 1> rollout_buckets{};
  double rollout_seconds_sum = 0;
  uint64_t rollout_count = 0;
};

class Supervisor {
 public:
  Supervisor(SupervisorConfig config, ProcessControl& control,
             region::SharedRegion& region);

  // Called with a worker's slot right before the slot is reset for reuse,
  // so its counters can be folded into the retired totals.
  void OnSlotRetired(std::function<void(int slot)> f) {
    slot_retired_ = std::move(f);
  }

  void Start(int64_t now_ns);
  void Tick(int64_t now_ns);
  // Returns false when `pid` was not one of our workers (an orphan).
  bool OnChildExit(pid_t pid, int status, int64_t now_ns);
  void RequestRoll(int64_t now_ns, std::string reason,
                   std::optional<int64_t> generation = std::nullopt);
  void RequestShutdown(int64_t now_ns, bool skip_delay, std::string reason);

  bool Finished() const { return state_ == PoolState::kStopped; }
  int ExitCode() const { return exit_code_; }

  // Probe answers; the string is the reason shown to whoever asked.
  bool Live(std::string* why) const;
  bool Ready(std::string* why) const;
  bool Started(std::string* why) const;

  PoolState state() const { return state_; }
  int64_t generation() const { return generation_; }
  int64_t stable_generation() const { return stable_generation_; }
  const std::map<pid_t, WorkerInfo>& workers() const { return workers_; }
  const std::optional<RollResult>& last_roll() const { return last_roll_; }
  const SupervisorCounts& counts() const { return counts_; }
  nlohmann::json StatusJson() const;

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

  void SpawnWorker(int index, int64_t now_ns, bool replacement);
  void ReadyWorker(WorkerInfo& w, int64_t now_ns);
  void MurderWorker(WorkerInfo& w, RetireReason reason, std::string_view why);
  void DrainWorker(WorkerInfo& w, RetireReason reason, int64_t now_ns);
  void ManageSeats(int64_t now_ns);
  void AdvanceRoll(int64_t now_ns);
  void FinishRoll(int64_t now_ns, std::string result, std::string error);
  void BeginDrain(int64_t now_ns);
  void ScheduleRestart(int index, int64_t now_ns);
  std::optional<int> TakeSlot();
  void UpdateServingState();

  SupervisorConfig config_;
  ProcessControl& control_;
  region::SharedRegion& region_;
  std::function<void(int)> slot_retired_;

  PoolState state_ = PoolState::kStarting;
  std::map<pid_t, WorkerInfo> workers_;
  std::map<pid_t, int64_t> epochs_;  // the roll epoch each worker was made for
  std::vector<Seat> seats_;
  std::vector<bool> slot_used_;
  int64_t generation_ = 1;
  // The generation the serving workers run: a failed roll falls back to it,
  // so a crashed worker restarts with a config known to start.
  int64_t stable_generation_ = 1;
  int64_t epoch_ = 0;
  bool started_ = false;
  std::optional<Roll> roll_;
  bool roll_pending_ = false;
  std::string pending_reason_;
  std::optional<RollResult> last_roll_;

  bool shutting_down_ = false;
  bool drain_begun_ = false;
  int64_t drain_at_ns_ = 0;
  int exit_code_ = 0;
  SupervisorCounts counts_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_SUPERVISOR_H_
