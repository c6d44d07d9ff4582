// The memory guard's policy: when the container's working set passes a
// fraction of its memory limit, recycle the worker that holds the most
// memory, before the kernel's OOM killer picks a victim (on cgroup v2 with
// memory.oom.group=1, as the kubelet sets it, that victim is the whole
// container). Replacement first when the limit leaves room for a new worker
// beside the old one, and for what the working set grows until the old one
// is gone (measured), drain first when it does not. Never two at once, and
// when a recycle did not bring usage down, the next waits longer each time.
// Pure: fed figures and a clock reading, so unit tests drive it.
#ifndef CORRAL_MASTER_MEMORY_GUARD_H_
#define CORRAL_MASTER_MEMORY_GUARD_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "master/supervisor.h"
#include "memory/cgroup_memory.h"

namespace corral::master {

struct MemoryGuardConfig {
  // Of the limit; nullopt: the guard is off.
  std::optional<double> threshold = 0.8;
  // How long the next recycle waits after one that did not bring usage
  // down; doubled each time it happens again, up to `backoff_cap`.
  absl::Duration backoff = absl::Seconds(2);
  absl::Duration backoff_cap = absl::Seconds(60);
  // The working set's growth rate is measured over windows this long, and
  // the fastest of the last `growth_windows` counts: a one-second rate
  // swings with the load (a worker starting, a busy node).
  absl::Duration growth_window = absl::Seconds(1);
  int growth_windows = 5;
};

// A ready worker and the memory recycling it would give back.
struct WorkerMemory {
  int pool = 0;  // which pool it is in, as the caller numbers them
  pid_t pid = 0;
  int index = 0;
  int64_t bytes = 0;
};

// What to do: recycle `worker`, in this order, for this reason (a sentence
// with the figures, for the log).
struct MemoryRecycle {
  WorkerMemory worker;
  RecycleOrder order = RecycleOrder::kReplacementFirst;
  std::string why;
};

class MemoryGuard {
 public:
  explicit MemoryGuard(MemoryGuardConfig config) : config_(config) {}

  // The working set above which the guard acts; nullopt when it is off or
  // there is no limit.
  std::optional<int64_t> Threshold(const memory::MemoryFigures& f) const;

  // One check, on every read of the cgroup (it also measures the growth).
  // `busy`: a recycle is under way in any pool (nothing new is decided, but
  // a finished one is judged). `fresh_bytes`: what a new worker holds once
  // ready (measured; the smallest worker stands in when unknown).
  // `replacement_time`: how long a replacement-first recycle holds both
  // workers, the new one's start and the old one's drain (measured).
  // Returns the worker to recycle.
  std::optional<MemoryRecycle> Check(
      const memory::MemoryFigures& f, const std::vector<WorkerMemory>& workers,
      bool busy, int64_t now_ns,
      std::optional<int64_t> fresh_bytes = std::nullopt,
      absl::Duration replacement_time = absl::ZeroDuration());

  // What the working set grows by in `d` at the fastest rate of the last
  // full windows: growth only, so a worker's exit does not hide a leak.
  int64_t GrowthDuring(absl::Duration d) const;
  // What it may grow by during a replacement-first recycle expected to take
  // `replacement_time`: over twice that, since one start-up of the same app
  // can take three times as long as the one before it on a busy node (0.25
  // to 0.92 s for a Node app within a minute, bench/leak.sh).
  int64_t ReplacementGrowth(absl::Duration replacement_time) const {
    return GrowthDuring(2 * replacement_time);
  }

  // The recycle Check asked for was not taken (the worker went meanwhile):
  // nothing to judge.
  void Abandon() { pending_.reset(); }

  // How long the guard waits now after a recycle that freed too little.
  absl::Duration current_backoff() const { return backoff_; }

 private:
  // Adds one read of the working set to the growth rate's windows.
  void MeasureGrowth(int64_t ws, int64_t now_ns);

  MemoryGuardConfig config_;
  // The last recycle the guard asked for, until it is judged.
  struct Pending {
    int64_t working_set_before = 0;
    int64_t worker_bytes = 0;
  };
  std::optional<Pending> pending_;
  // The growth rate: rises summed over the current window, and the rates
  // of the last full ones, newest last.
  int64_t last_ws_ = -1;
  int64_t window_start_ns_ = 0;
  int64_t window_rises_ = 0;
  std::deque<double> window_rates_;
  absl::Duration backoff_ = absl::ZeroDuration();
  int64_t next_at_ns_ = 0;
};

// Replacement first when what is left below the limit holds a new worker
// (`fresh_bytes`) with a quarter more, and what the working set grows while
// the new one starts and the old one drains (`growth_bytes`: the old worker
// and the others keep serving, and a leak keeps leaking), else drain first;
// the sentence says which and why.
RecycleOrder ChooseOrder(const memory::MemoryFigures& f, int64_t fresh_bytes,
                         int64_t growth_bytes, std::string* why);

}  // namespace corral::master

#endif  // CORRAL_MASTER_MEMORY_GUARD_H_
