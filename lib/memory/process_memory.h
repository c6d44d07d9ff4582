// How much memory recycling a worker would give back: the private resident
// memory (smaps_rollup Private_Clean + Private_Dirty) of the worker and every
// process below it (an app's own children count: `corral -- CMD` runs CMD's
// whole tree). Shared pages (libraries, pages shared with a parent) stay
// when the worker goes, so they are left out; where smaps_rollup cannot be
// read (before Linux 4.14), VmRSS stands in.
#ifndef CORRAL_MEMORY_PROCESS_MEMORY_H_
#define CORRAL_MEMORY_PROCESS_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace corral::memory {

// Private_Clean + Private_Dirty of /proc/PID/smaps_rollup text, in bytes.
std::optional<int64_t> ParsePrivateBytes(absl::string_view smaps_rollup);
// VmRSS of /proc/PID/status text, in bytes.
std::optional<int64_t> ParseRssBytes(absl::string_view status);

// `pid` and its descendants, from /proc/PID/task/TID/children.
std::vector<pid_t> ProcessTree(pid_t pid, const std::string& proc = "/proc");

// The private resident memory of `pid`'s tree; nullopt when `pid` is gone.
std::optional<int64_t> TreeMemory(pid_t pid, const std::string& proc = "/proc");

}  // namespace corral::memory

#endif  // CORRAL_MEMORY_PROCESS_MEMORY_H_
