// The memory guard's policy: when the container's working set passes a
// fraction of its memory limit, recycle the worker that holds the most
// memory, before the kernel's OOM killer picks a victim (on cgroup v2 with
// memory.oom.group=1, as the kubelet sets it, that victim is the whole
// container). Replacement first when the limit leaves room for a new worker
// beside the old one, drain first when it does not. Never two at once, and
// when a recycle did not bring usage down, the next waits longer each time.
// Pure: fed figures and a clock reading, so unit tests drive it.
#ifndef CORRAL_MASTER_MEMORY_GUARD_H_
#define CORRAL_MASTER_MEMORY_GUARD_H_

#include <sys/types.h>

#include <cstdint>
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

  // One check. `busy`: a recycle is under way in any pool (nothing new is
  // decided, but a finished one is judged). `fresh_bytes`: what a new
  // worker holds once ready (measured; the smallest worker stands in when
  // unknown). Returns the worker to recycle.
  std::optional<MemoryRecycle> Check(
      const memory::MemoryFigures& f, const std::vector<WorkerMemory>& workers,
      bool busy, int64_t now_ns,
      std::optional<int64_t> fresh_bytes = std::nullopt);

  // The recycle Check asked for was not taken (the worker went meanwhile):
  // nothing to judge.
  void Abandon() { pending_.reset(); }

  // How long the guard waits now after a recycle that freed too little.
  absl::Duration current_backoff() const { return backoff_; }

 private:
  MemoryGuardConfig config_;
  // The last recycle the guard asked for, until it is judged.
  struct Pending {
    int64_t working_set_before = 0;
    int64_t worker_bytes = 0;
  };
  std::optional<Pending> pending_;
  absl::Duration backoff_ = absl::ZeroDuration();
  int64_t next_at_ns_ = 0;
};

// Replacement first when what is left below the limit holds a new worker
// (`fresh_bytes`) with a quarter more for what the old one still grows while
// the new one starts, else drain first; the sentence says which and why.
RecycleOrder ChooseOrder(const memory::MemoryFigures& f, int64_t fresh_bytes,
                         std::string* why);

}  // namespace corral::master

#endif  // CORRAL_MASTER_MEMORY_GUARD_H_
