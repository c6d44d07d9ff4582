// The standard process_* metrics of the master, and the CPU and memory of
// each worker, read from /proc.
#ifndef CORRAL_METRICS_PROCESS_STATS_H_
#define CORRAL_METRICS_PROCESS_STATS_H_

#include <optional>
#include <string>
#include <string_view>

namespace corral::metrics {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // unix time
};

// Parses /proc/self/stat text (pure, for tests). ticks = sysconf(_SC_CLK_TCK).
std::optional<ProcessStats> ParseProcStat(std::string_view stat, long ticks,
                                          long page_size, double boot_time);

// `proc` is "/proc/self" or "/proc/<pid>"; descriptors are counted only
// when asked (a directory listing per process).
std::optional<ProcessStats> ReadProcessStats(
    const std::string& proc = "/proc/self", bool count_fds = true);

}  // namespace corral::metrics

#endif  // CORRAL_METRICS_PROCESS_STATS_H_
