#include "cpu/cpu_count.h"

#include <sched.h>

#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sysfs/read_file.h"

namespace corral::cpu {
namespace {

using sysfs::ReadFile;

// The cgroup path of this process for the v2 hierarchy ("0::/path") and for
// the v1 cpu controller ("N:cpu,cpuacct:/path").
struct CgroupPaths {
  std::optional<std::string> v2;
  std::optional<std::string> v1_cpu;
  std::string v1_mount;  // "cpu,cpuacct" or "cpu"
};

CgroupPaths ParseProcSelfCgroup(absl::string_view text) {
  CgroupPaths paths;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    if (parts[0] == "0" && parts[1].empty()) {
      paths.v2 = std::string(parts[2]);
      continue;
    }
    for (absl::string_view c : absl::StrSplit(parts[1], ',')) {
      if (c == "cpu") {
        paths.v1_cpu = std::string(parts[2]);
        paths.v1_mount = std::string(parts[1]);
      }
    }
  }
  return paths;
}

std::string Join(const std::string& root, const std::string& mid,
                 const std::string& path, const char* file) {
  std::string out = root;
  if (!mid.empty()) out += "/" + mid;
  if (!path.empty() && path != "/") out += path;
  out += "/";
  out += file;
  return out;
}

// Where the kubelet's cgroups live, with the cgroupfs and the systemd driver
// ("/kubepods/burstable/pod.../ID", "/kubepods.slice/...").
bool InKubepods(absl::string_view path) {
  return absl::StrContains(path, "kubepods");
}

absl::StatusOr<int64_t> ParsePositive(absl::string_view text,
                                      absl::string_view what) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &v) || v <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a positive number: \"", text, "\""));
  }
  return v;
}

}  // namespace

absl::StatusOr<std::optional<double>> ParseCpuShares(absl::string_view shares,
                                                     bool in_kubepods) {
  absl::StatusOr<int64_t> v = ParsePositive(shares, "cpu.shares");
  if (!v.ok()) return v.status();
  // The kubelet: shares = millicores * 1024 / 1000, at least 2 (BestEffort).
  if (*v <= 2 || (*v == 1024 && !in_kubepods)) return std::optional<double>();
  return std::optional<double>(static_cast<double>(*v) / 1024.0);
}

absl::StatusOr<std::optional<double>> ParseCpuWeight(absl::string_view weight,
                                                     bool in_kubepods) {
  absl::StatusOr<int64_t> v = ParsePositive(weight, "cpu.weight");
  if (!v.ok()) return v.status();
  if (*v > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu.weight: above 10000: \"", weight, "\""));
  }
  if (*v <= 1 || (*v == 100 && !in_kubepods)) return std::optional<double>();
  // The kubelet: weight = 1 + ((shares - 2) * 9999) / 262142, integer
  // division. Its inverse gives the bottom of the shares that map to this
  // weight, up to 26 shares (0.026 CPUs) under the request: rounded to
  // hundredths, a whole number of CPUs comes back whole.
  double shares = 2.0 + static_cast<double>(*v - 1) * 262142.0 / 9999.0;
  return std::optional<double>(std::round(shares / 1024.0 * 100.0) / 100.0);
}

absl::StatusOr<std::optional<double>> ParseCpuMax(absl::string_view cpu_max) {
  std::vector<absl::string_view> parts = absl::StrSplit(
      absl::StripAsciiWhitespace(cpu_max), ' ', absl::SkipEmpty());
  if (parts.empty() || parts.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cpu.max: expected \"QUOTA PERIOD\", got \"", cpu_max, "\""));
  }
  int64_t period = 100000;
  if (parts.size() == 2 &&
      (!absl::SimpleAtoi(parts[1], &period) || period <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu.max: bad period in \"", cpu_max, "\""));
  }
  if (parts[0] == "max") return std::optional<double>();
  int64_t quota = 0;
  if (!absl::SimpleAtoi(parts[0], &quota) || quota <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu.max: bad quota in \"", cpu_max, "\""));
  }
  return std::optional<double>(static_cast<double>(quota) / period);
}

absl::StatusOr<std::optional<double>> ParseCfsQuota(
    absl::string_view quota_us, absl::string_view period_us) {
  int64_t quota = 0;
  int64_t period = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(quota_us), &quota)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu.cfs_quota_us: not a number: \"", quota_us, "\""));
  }
  if (quota < 0) return std::optional<double>();
  if (quota == 0) {
    return absl::InvalidArgumentError("cpu.cfs_quota_us: zero quota");
  }
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(period_us), &period) ||
      period <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu.cfs_period_us: bad period \"", period_us, "\""));
  }
  return std::optional<double>(static_cast<double>(quota) / period);
}

CpuCount Derive(int affinity_cpus, std::optional<double> quota_cpus,
                absl::string_view source) {
  CpuCount c;
  c.affinity_cpus = affinity_cpus < 1 ? 1 : affinity_cpus;
  c.quota_cpus = quota_cpus;
  c.source = std::string(source);
  c.workers = c.affinity_cpus;
  if (quota_cpus) {
    // Round up like the JVM and Go: a 1500m limit gets 2 workers, because a
    // worker is idle much of its time on network waits.
    int ceil_quota = static_cast<int>(std::ceil(*quota_cpus - 1e-9));
    if (ceil_quota < c.workers) c.workers = ceil_quota;
    c.how = absl::StrFormat(
        "min(affinity %d CPUs, ceil(quota %.3g CPUs from %s) = %d) = %d",
        c.affinity_cpus, *quota_cpus, c.source, ceil_quota, c.workers);
  } else {
    c.how = absl::StrFormat("affinity %d CPUs, no CPU quota", c.affinity_cpus);
  }
  if (c.workers < 1) c.workers = 1;
  return c;
}

CpuCount DeriveFromRequest(int affinity_cpus, double request_cpus,
                           absl::string_view source) {
  CpuCount c = Derive(affinity_cpus, std::nullopt, source);
  c.request_cpus = request_cpus;
  // Rounded up as a quota is.
  int ceil_request = static_cast<int>(std::ceil(request_cpus - 1e-9));
  if (ceil_request < 1) ceil_request = 1;
  if (ceil_request < c.workers) c.workers = ceil_request;
  c.how = absl::StrFormat(
      "no CPU quota: min(affinity %d CPUs, ceil(request %.3g CPUs from %s) = "
      "%d) = %d",
      c.affinity_cpus, request_cpus, c.source, ceil_request, c.workers);
  return c;
}

namespace {

// The count from the request in `file` (weight or shares, read by `parse`),
// when the file says there is one.
std::optional<CpuCount> FromRequest(
    const std::string& file,
    absl::StatusOr<std::optional<double>> (*parse)(absl::string_view, bool),
    bool in_kubepods, int affinity_cpus, std::vector<std::string>& problems) {
  std::optional<std::string> text = ReadFile(file);
  if (!text) return std::nullopt;
  auto request = parse(*text, in_kubepods);
  if (!request.ok()) {
    problems.push_back(std::string(request.status().message()));
    return std::nullopt;
  }
  if (!request->has_value()) return std::nullopt;
  return DeriveFromRequest(affinity_cpus, **request, file);
}

}  // namespace

CpuCount DetectFrom(const std::string& cgroup_root,
                    absl::string_view proc_self_cgroup, int affinity_cpus) {
  CgroupPaths paths = ParseProcSelfCgroup(proc_self_cgroup);
  std::vector<std::string> problems;
  // v2: the unified hierarchy is the root itself, or "unified" on hybrid hosts.
  if (paths.v2) {
    for (const char* mid : {"", "unified"}) {
      std::string file = Join(cgroup_root, mid, *paths.v2, "cpu.max");
      std::optional<std::string> text = ReadFile(file);
      if (!text) continue;
      auto quota = ParseCpuMax(*text);
      if (quota.ok() && quota->has_value()) {
        return Derive(affinity_cpus, *quota, file);
      }
      if (quota.ok()) {
        std::string wfile = Join(cgroup_root, mid, *paths.v2, "cpu.weight");
        if (std::optional<CpuCount> c =
                FromRequest(wfile, ParseCpuWeight, InKubepods(*paths.v2),
                            affinity_cpus, problems)) {
          return *c;
        }
        return Derive(affinity_cpus, std::nullopt, file);
      }
      problems.push_back(std::string(quota.status().message()));
    }
  }
  if (paths.v1_cpu) {
    for (const std::string& mid :
         {paths.v1_mount, std::string("cpu,cpuacct"), std::string("cpu")}) {
      std::string qfile =
          Join(cgroup_root, mid, *paths.v1_cpu, "cpu.cfs_quota_us");
      std::optional<std::string> quota_text = ReadFile(qfile);
      if (!quota_text) continue;
      std::string pfile =
          Join(cgroup_root, mid, *paths.v1_cpu, "cpu.cfs_period_us");
      std::optional<std::string> period_text = ReadFile(pfile);
      auto quota = ParseCfsQuota(*quota_text, period_text.value_or(""));
      if (quota.ok() && quota->has_value()) {
        return Derive(affinity_cpus, *quota, qfile);
      }
      if (quota.ok()) {
        std::string sfile = Join(cgroup_root, mid, *paths.v1_cpu, "cpu.shares");
        if (std::optional<CpuCount> c =
                FromRequest(sfile, ParseCpuShares, InKubepods(*paths.v1_cpu),
                            affinity_cpus, problems)) {
          return *c;
        }
        return Derive(affinity_cpus, std::nullopt, qfile);
      }
      problems.push_back(std::string(quota.status().message()));
    }
  }
  CpuCount c = Derive(affinity_cpus, std::nullopt, "");
  if (!problems.empty()) {
    c.how += "; unreadable quota ignored: " + problems.front();
  }
  return c;
}

CpuCount Detect() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int affinity = 1;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) affinity = CPU_COUNT(&set);
  std::string self = ReadFile("/proc/self/cgroup").value_or("");
  return DetectFrom("/sys/fs/cgroup", self, affinity);
}

}  // namespace corral::cpu
