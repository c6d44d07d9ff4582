// How many workers a pod should run: the CPUs it may actually use, from the
// scheduler affinity (cpuset) and the cgroup CPU quota, not the node's cores;
// without a quota, from the CPU request the kubelet wrote as cpu.weight (v2)
// or cpu.shares (v1), capped by the affinity.
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

// The CPU request as a number of CPUs (1.0 for 1000m), from the weight or
// the shares the kubelet derived from it; nullopt when the value says "no
// request": BestEffort's minimum (shares 2, weight 1), or the kernel's
// default (shares 1024, weight 100) outside a kubepods cgroup, where no
// kubelet wrote it.
absl::StatusOr<std::optional<double>> ParseCpuShares(absl::string_view shares,
                                                     bool in_kubepods);
absl::StatusOr<std::optional<double>> ParseCpuWeight(absl::string_view weight,
                                                     bool in_kubepods);

struct CpuCount {
  int workers = 1;
  int affinity_cpus = 0;
  std::optional<double> quota_cpus;
  std::optional<double> request_cpus;  // only looked for without a quota
  std::string source;  // which file the quota or request came from, if any
  std::string how;     // a sentence for the log
};

// min(affinity, ceil(quota)), at least 1.
CpuCount Derive(int affinity_cpus, std::optional<double> quota_cpus,
                absl::string_view source);
// No quota: min(affinity, ceil(request)), at least 1.
CpuCount DeriveFromRequest(int affinity_cpus, double request_cpus,
                           absl::string_view source);

// Reads the quota for the cgroup listed in `proc_self_cgroup` (the text of
// /proc/self/cgroup) under `cgroup_root`, trying v2's cpu.max first, then v1's
// cpu.cfs_quota_us. Files that are missing mean "no limit". Without a limit,
// the request beside it: v2's cpu.weight, v1's cpu.shares.
CpuCount DetectFrom(const std::string& cgroup_root,
                    absl::string_view proc_self_cgroup, int affinity_cpus);

// The real thing: /sys/fs/cgroup, /proc/self/cgroup and sched_getaffinity.
CpuCount Detect();

}  // namespace corral::cpu

#endif  // CORRAL_CPU_CPU_COUNT_H_
