// How many workers a pod should run: the CPUs it may actually use, from the
// scheduler affinity (cpuset) and the cgroup CPU quota, not the node's cores.
#ifndef CORRAL_CPU_CPU_COUNT_H_
#define CORRAL_CPU_CPU_COUNT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace corral::cpu {

// The quota as a number of CPUs (1.5 for "150000 100000"); nullopt when there
// is no limit ("max ..." in v2, -1 in v1).
absl::StatusOr<std::optional<double>> ParseCpuMax(absl::string_view cpu_max);
absl::StatusOr<std::optional<double>> ParseCfsQuota(
    absl::string_view quota_us, absl::string_view period_us);

struct CpuCount {
  int workers = 1;
  int affinity_cpus = 0;
  std::optional<double> quota_cpus;
  std::string source;  // which file the quota came from, if any
  std::string how;     // a sentence for the log
};

// min(affinity, ceil(quota)), at least 1.
CpuCount Derive(int affinity_cpus, std::optional<double> quota_cpus,
                absl::string_view source);

// Reads the quota for the cgroup listed in `proc_self_cgroup` (the text of
// /proc/self/cgroup) under `cgroup_root`, trying v2's cpu.max first, then v1's
// cpu.cfs_quota_us. Files that are missing mean "no limit".
CpuCount DetectFrom(const std::string& cgroup_root,
                    absl::string_view proc_self_cgroup, int affinity_cpus);

// The real thing: /sys/fs/cgroup, /proc/self/cgroup and sched_getaffinity.
CpuCount Detect();

}  // namespace corral::cpu

#endif  // CORRAL_CPU_CPU_COUNT_H_
