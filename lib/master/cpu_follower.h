// The pod's CPUs as they change: Kubernetes resizes a running pod in place
// (KEP-1287) by rewriting its cgroup's cpu.max / cfs_quota_us and
// cpu.weight / cpu.shares, and tells the process nothing. The master asks
// this on every tick; it reads the files again every couple of seconds and
// reports a worker count that changed.
#ifndef CORRAL_MASTER_CPU_FOLLOWER_H_
#define CORRAL_MASTER_CPU_FOLLOWER_H_

#include <functional>
#include <optional>

#include "absl/time/time.h"
#include "clock/clock.h"
#include "cpu/cpu_count.h"

namespace corral::master {

class CpuFollower {
 public:
  using Detect = std::function<cpu::CpuCount()>;

  // `first`: the count the pools started with.
  CpuFollower(cpu::CpuCount first, Detect detect, const clock::Clock& clock,
              absl::Duration every = absl::Seconds(2));

  // Reads the CPUs at most once per `every`; returns them when the worker
  // count they give differs from the last one returned (or `first`).
  std::optional<cpu::CpuCount> Poll();

  const cpu::CpuCount& current() const { return current_; }

 private:
  cpu::CpuCount current_;
  Detect detect_;
  const clock::Clock& clock_;
  int64_t every_ns_;
  int64_t next_ns_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_CPU_FOLLOWER_H_
