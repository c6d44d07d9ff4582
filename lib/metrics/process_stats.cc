#include "metrics/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace corral::metrics {

std::optional<ProcessStats> ParseProcStat(std::string_view stat, long ticks,
                                          long page_size, double boot_time) {
  // Fields after the command name, which may itself hold spaces and parens.
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks <= 0) return std::nullopt;
  std::istringstream in{std::string(stat.substr(close + 2))};
  std::vector<std::string> f;
  std::string field;
  while (in >> field) f.push_back(field);
  // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23,
  // rss=24.
  if (f.size() < 22) return std::nullopt;
  ProcessStats s;
  try {
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    s.start_time_seconds = boot_time + std::stod(f[19]) / ticks;
    s.virtual_bytes = std::stod(f[20]);
    s.resident_bytes = std::stod(f[21]) * page_size;
  } catch (...) {
    return std::nullopt;
  }
  return s;
}

std::optional<ProcessStats> ReadProcessStats(const std::string& proc,
                                             bool count_fds) {
  std::ifstream stat_file(proc + "/stat");
  std::string stat;
  std::getline(stat_file, stat);
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  std::string line;
  while (std::getline(proc_stat, line)) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  }
  auto s = ParseProcStat(stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
                         boot_time);
  if (!s || !count_fds) return s;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(proc + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    s->open_fds += 1;
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    s->max_fds = static_cast<double>(lim.rlim_cur);
  }
  return s;
}

}  // namespace corral::metrics
