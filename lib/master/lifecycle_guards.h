// The lifecycle guards' I/O, on the master's tick (50 ms): each tick it
// reads the container's memory cgroup (a few small files: a fast leak
// passes the limit within a second; once a second when there is no limit),
// measures each new worker once when it is ready (what a fresh worker
// holds; with how long workers took to turn ready, how long drains took and
// how fast the working set grows, it says whether a replacement fits beside
// the old worker), and
// every quarter second each worker's requests (its slot), age and, with a
// limit on it, memory (/proc). It asks the pools to recycle the worker the
// memory guard (memory_guard.h) or a per-worker limit (recycle_limits.h)
// points at. It also tells an OOM kill from a plain SIGKILL by the cgroup's
// oom_kill counter (Supervisor's OnUnexpectedKill).
#ifndef CORRAL_MASTER_LIFECYCLE_GUARDS_H_
#define CORRAL_MASTER_LIFECYCLE_GUARDS_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <vector>

#include "clock/clock.h"
#include "master/memory_guard.h"
#include "master/recycle_limits.h"
#include "master/supervisor.h"
#include "memory/cgroup_memory.h"
#include "region/shared_region.h"

namespace corral::master {

struct GuardSettings {
  MemoryGuardConfig memory;
  RecycleLimitsConfig limits;
};

class LifecycleGuards {
 public:
  // `cgroup`: the container's memory cgroup (memory::Locate()), if found.
  LifecycleGuards(GuardSettings settings,
                  std::optional<memory::MemoryCgroup> cgroup,
                  const region::SharedRegion& region,
                  const clock::Clock& clock);

  // A pool to guard. The per-worker limits apply where `limits` is true
  // (the app's workers, or proxy mode's app processes); the memory guard
  // and the OOM count watch every pool.
  void Watch(Supervisor& pool, bool limits);
  // Logs what is guarded and how.
  void LogSetUp() const;
  void Tick();
  // For Supervisor::OnUnexpectedKill: the figures when the cgroup's OOM
  // kill counter moved since the last death it explained.
  std::optional<nlohmann::json> OomKill(pid_t pid);

 private:
  struct Watched {
    Supervisor* pool;
    bool limits;
  };
  bool AnyBusy() const;
  std::vector<WorkerMemory> MeasureWorkers();
  // Measures ready workers not measured yet; returns the most any of the
  // live ones held when new.
  std::optional<int64_t> FreshWorkerBytes();
  // How long a replacement-first recycle is expected to hold both workers:
  // the longest any live ready worker took from spawn to ready, plus the
  // last drain's length.
  absl::Duration ReplacementTime() const;
  // Times each drain: from its start to its worker's exit.
  void TimeDrains();
  void CheckLimits(const std::optional<memory::MemoryFigures>& figures);
  // Workers whose slot asks to go (a request passed --request-deadline).
  void CheckRequested();
  void CheckMemory(const memory::MemoryFigures& figures);

  GuardSettings settings_;
  std::optional<memory::MemoryCgroup> cgroup_;
  const region::SharedRegion& region_;
  const clock::Clock& clock_;
  std::vector<Watched> pools_;
  MemoryGuard guard_;
  RecycleLimits limits_;
  std::mt19937_64 random_;
  int64_t next_limits_ns_ = 0;
  int64_t next_requested_ns_ = 0;
  int64_t next_memory_ns_ = 0;
  // OOM kills already explained (or there before we started).
  uint64_t oom_seen_ = 0;
  // Each worker's memory when last measured, for an OOM kill's log line.
  std::map<pid_t, int64_t> last_bytes_;
  // Each live worker's memory when first measured, ready.
  std::map<pid_t, int64_t> fresh_bytes_;
  // Draining workers and when their drain started; the last drain's length.
  std::map<pid_t, int64_t> draining_since_;
  absl::Duration last_drain_ = absl::ZeroDuration();
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_LIFECYCLE_GUARDS_H_
