// The worker pool as the rest of corral sees it: its states, why workers
// leave, how rolls end, and a read-only view of it. The supervisor (master/)
// implements the view; the admin server and the metrics read it without
// knowing the supervisor.
#ifndef CORRAL_POOL_POOL_H_
#define CORRAL_POOL_POOL_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace corral::pool {

// Each enum's names are one table, indexed by the enum's value: logs,
// /status and metric labels all read them from here.
enum class PoolState {
  kStarting,    // workers on their way up; not ready yet
  kServing,     // every seat has a ready worker
  kRolling,     // replacing the workers one at a time
  kDrainDelay,  // shutting down: readiness fails, workers still serve
  kDraining,    // shutting down: workers finish in-flight requests
  kStopped,     // every worker has exited
};
inline constexpr std::array<std::string_view, 6> kPoolStateNames = {
    "starting", "serving", "rolling", "drain_delay", "draining", "stopped"};

enum class WorkerPhase { kStarting, kReady, kDraining };
inline constexpr std::array<std::string_view, 3> kWorkerPhaseNames = {
    "starting", "ready", "draining"};

// Why a worker left.
enum class RetireReason {
  kNone,
  kCrash,
  kTimeout,
  kStartFailed,
  kRoll,
  kShutdown,
  kResize,  // fewer workers wanted (the pod's CPUs changed)
  // Recycled (lifecycle guards): the container's memory near its limit,
  // --max-worker-memory, --max-requests, --max-worker-age.
  kMemory,
  kWorkerMemory,
  kMaxRequests,
  kMaxAge,
  // Killed by the kernel's OOM killer.
  kOom,
  // Recycled: a request of its passed --request-deadline.
  kDeadline,
};
inline constexpr std::array<std::string_view, 13> kRetireReasonNames = {
    "none",     "crash",  "timeout", "start_failed",  "roll",
    "shutdown", "resize", "memory",  "worker_memory", "max_requests",
    "max_age",  "oom",    "deadline"};
// The reasons corral_worker_restarts_total counts.
inline constexpr std::array<RetireReason, 10> kRestartReasons = {
    RetireReason::kCrash,       RetireReason::kTimeout,
    RetireReason::kStartFailed, RetireReason::kRoll,
    RetireReason::kMemory,      RetireReason::kWorkerMemory,
    RetireReason::kMaxRequests, RetireReason::kMaxAge,
    RetireReason::kOom,         RetireReason::kDeadline};

// How a roll ended.
enum class RollResult { kSuccess, kFailed, kSuperseded, kAborted };
inline constexpr std::array<std::string_view, 4> kRollResultNames = {
    "success", "failed", "superseded", "aborted"};

template <typename Enum, size_t N>
constexpr std::string_view NameIn(const std::array<std::string_view, N>& names,
                                  Enum e) {
  auto i = static_cast<size_t>(e);
  return i < N ? names[i] : std::string_view("unknown");
}
constexpr std::string_view Name(PoolState s) {
  return NameIn(kPoolStateNames, s);
}
constexpr std::string_view Name(WorkerPhase p) {
  return NameIn(kWorkerPhaseNames, p);
}
constexpr std::string_view Name(RetireReason r) {
  return NameIn(kRetireReasonNames, r);
}
constexpr std::string_view Name(RollResult r) {
  return NameIn(kRollResultNames, r);
}

inline constexpr std::array<double, 10> kRolloutBounds = {
    0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

// What the pool has counted since it started, for metrics.
struct PoolCounts {
  std::array<uint64_t, kRetireReasonNames.size()> restarts{};  // by reason
  std::array<uint64_t, kRollResultNames.size()> rollouts{};    // by result
  // How long finished rolls took: buckets over kRolloutBounds (+Inf last).
  std::array<uint64_t, kRolloutBounds.size() + 1> rollout_buckets{};
  double rollout_seconds_sum = 0;

  uint64_t restarts_for(RetireReason r) const {
    return restarts[static_cast<size_t>(r)];
  }
  uint64_t rollouts_for(RollResult r) const {
    return rollouts[static_cast<size_t>(r)];
  }
};

// One live worker, as the view shows it.
struct WorkerView {
  int index = 0;
  int slot = 0;
  pid_t pid = 0;
  WorkerPhase phase = WorkerPhase::kStarting;
};

// A probe's answer and the reason shown to whoever asked.
struct ProbeResult {
  bool ok = false;
  std::string why;
};

// How the supervisor acts on the world: the real ones fork and exec a
// worker (this binary again, or any command) and signal it.
class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  virtual absl::StatusOr<pid_t> StartWorker(int index, int slot,
                                            int64_t generation) = 0;
  // SIGTERM asks a worker to drain, SIGKILL ends it.
  virtual void Signal(pid_t pid, int signal) = 0;
  // The stop signal at once, with no wait for requests in flight: a worker
  // found hung gets it before its SIGKILL, so the app may dump its stack.
  virtual void SendStopSignal(pid_t pid) { Signal(pid, SIGTERM); }
  // Whether a worker asked to drain ended the way it should (waitpid's
  // status): exit code 0, or, for a program that keeps the default
  // disposition, the stop signal itself.
  virtual bool StoppedCleanly(int status) const {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
};

class PoolView {
 public:
  virtual ~PoolView() = default;

  virtual ProbeResult Live() const = 0;
  virtual ProbeResult Ready() const = 0;
  virtual ProbeResult Started() const = 0;

  virtual PoolState state() const = 0;
  // How many workers the pool keeps serving.
  virtual int workers_wanted() const = 0;
  // The config generation the workers are rolled to.
  virtual int64_t generation() const = 0;
  virtual std::vector<WorkerView> Workers() const = 0;
  virtual const PoolCounts& counts() const = 0;
  virtual nlohmann::json StatusJson() const = 0;
};

}  // namespace corral::pool

#endif  // CORRAL_POOL_POOL_H_
