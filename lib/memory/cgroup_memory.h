// The container's memory as its cgroup sees it: the limit, what is charged,
// the working set and the kernel's OOM kills, from cgroup v2 (memory.max,
// memory.current, memory.stat, memory.events) or v1 (memory.limit_in_bytes,
// memory.usage_in_bytes, memory.stat, memory.oom_control). The parsers are
// pure, for tests fed fixture files; Locate and Read do the I/O.
#ifndef CORRAL_MEMORY_CGROUP_MEMORY_H_
#define CORRAL_MEMORY_CGROUP_MEMORY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace corral::memory {

// Where this process's memory cgroup files are.
struct MemoryCgroup {
  std::string dir;
  bool v2 = false;
};

struct MemoryFigures {
  std::optional<int64_t> limit_bytes;  // nullopt: no limit
  int64_t usage_bytes = 0;             // charged, page cache included
  // Page cache the kernel drops before any OOM kill.
  int64_t inactive_file_bytes = 0;
  // The kernel's OOM kills in the cgroup so far (nullopt: the kernel does
  // not count them, v1 before Linux 4.13).
  std::optional<uint64_t> oom_kills;

  // What the kubelet's eviction watches and what an OOM kill comes from:
  // usage less the inactive page cache.
  int64_t working_set() const {
    int64_t ws = usage_bytes - inactive_file_bytes;
    return ws < 0 ? 0 : ws;
  }
};

// memory.max ("max" or bytes) or memory.limit_in_bytes (v1 writes a number
// near 2^63 for none): nullopt when there is no limit.
absl::StatusOr<std::optional<int64_t>> ParseLimit(absl::string_view text);
// A file holding one byte count (memory.current, memory.usage_in_bytes).
absl::StatusOr<int64_t> ParseBytes(absl::string_view text);
// The value of `key` in a "key value" per line file (memory.stat,
// memory.events, memory.oom_control).
std::optional<uint64_t> KeyedValue(absl::string_view text,
                                   absl::string_view key);

// The memory cgroup listed in `proc_self_cgroup` (the text of
// /proc/self/cgroup) under `cgroup_root`: v2 first (the root itself, or
// "unified" on hybrid hosts, when it has memory.max), then v1's memory
// controller. nullopt when neither is readable.
std::optional<MemoryCgroup> LocateFrom(const std::string& cgroup_root,
                                       absl::string_view proc_self_cgroup);
// The real thing: /sys/fs/cgroup and /proc/self/cgroup.
std::optional<MemoryCgroup> Locate();

// The figures now. On v1 the limit is the lowest of this cgroup's and its
// ancestors' (memory.stat hierarchical_memory_limit).
absl::StatusOr<MemoryFigures> Read(const MemoryCgroup& cgroup);

// "123.4 MiB", for logs.
std::string FormatBytes(int64_t bytes);

}  // namespace corral::memory

#endif  // CORRAL_MEMORY_CGROUP_MEMORY_H_
