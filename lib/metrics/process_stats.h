// The standard process_* metrics of the master, read from /proc.
#ifndef CORRAL_METRICS_PROCESS_STATS_H_
#define CORRAL_METRICS_PROCESS_STATS_H_

#include <optional>
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

std::optional<ProcessStats> ReadProcessStats();

}  // namespace corral::metrics

#endif  // CORRAL_METRICS_PROCESS_STATS_H_
