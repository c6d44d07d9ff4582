#include "memory/cgroup_memory.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sysfs/read_file.h"

namespace corral::memory {
namespace {

using sysfs::ReadFile;

// v1 shows "no limit" as PAGE_COUNTER_MAX pages in bytes, just under 2^63;
// nobody sets a real limit of an exabyte.
constexpr int64_t kNoLimitFrom = int64_t{1} << 60;

std::string Join(const std::string& root, absl::string_view mid,
                 absl::string_view path) {
  std::string out = root;
  if (!mid.empty()) absl::StrAppend(&out, "/", mid);
  if (!path.empty() && path != "/") absl::StrAppend(&out, path);
  return out;
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> ParseLimit(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (t == "max") return std::optional<int64_t>();
  int64_t n = 0;
  if (!absl::SimpleAtoi(t, &n) || n < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory limit: expected bytes or \"max\", got \"", t, "\""));
  }
  if (n >= kNoLimitFrom) return std::optional<int64_t>();
  return std::optional<int64_t>(n);
}

absl::StatusOr<int64_t> ParseBytes(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  int64_t n = 0;
  if (!absl::SimpleAtoi(t, &n) || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory usage: expected bytes, got \"", t, "\""));
  }
  return n;
}

std::optional<uint64_t> KeyedValue(absl::string_view text,
                                   absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t n = 0;
    if (parts.size() == 2 && parts[0] == key &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(parts[1]), &n)) {
      return n;
    }
  }
  return std::nullopt;
}

std::optional<MemoryCgroup> LocateFrom(const std::string& cgroup_root,
                                       absl::string_view proc_self_cgroup) {
  std::optional<std::string> v2_path;
  std::optional<std::string> v1_path;
  std::string v1_mount;
  for (absl::string_view line :
       absl::StrSplit(proc_self_cgroup, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (parts.size() != 3) continue;
    if (parts[0] == "0" && parts[1].empty()) {
      v2_path = std::string(parts[2]);
      continue;
    }
    for (absl::string_view c : absl::StrSplit(parts[1], ',')) {
      if (c == "memory") {
        v1_path = std::string(parts[2]);
        v1_mount = std::string(parts[1]);
      }
    }
  }
  if (v2_path) {
    for (absl::string_view mid : {"", "unified"}) {
      std::string dir = Join(cgroup_root, mid, *v2_path);
      if (ReadFile(dir + "/memory.max")) return MemoryCgroup{dir, true};
    }
  }
  if (v1_path) {
    std::string dir = Join(cgroup_root, v1_mount, *v1_path);
    if (ReadFile(dir + "/memory.limit_in_bytes"))
      return MemoryCgroup{dir, false};
  }
  return std::nullopt;
}

std::optional<MemoryCgroup> Locate() {
  return LocateFrom("/sys/fs/cgroup",
                    ReadFile("/proc/self/cgroup").value_or(""));
}

absl::StatusOr<MemoryFigures> Read(const MemoryCgroup& cgroup) {
  auto file = [&](const char* name) -> absl::StatusOr<std::string> {
    std::string path = absl::StrCat(cgroup.dir, "/", name);
    std::optional<std::string> text = ReadFile(path);
    if (!text) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    return *text;
  };
  MemoryFigures f;
  absl::StatusOr<std::string> limit =
      file(cgroup.v2 ? "memory.max" : "memory.limit_in_bytes");
  if (!limit.ok()) return limit.status();
  absl::StatusOr<std::optional<int64_t>> parsed = ParseLimit(*limit);
  if (!parsed.ok()) return parsed.status();
  f.limit_bytes = *parsed;
  absl::StatusOr<std::string> usage =
      file(cgroup.v2 ? "memory.current" : "memory.usage_in_bytes");
  if (!usage.ok()) return usage.status();
  absl::StatusOr<int64_t> bytes = ParseBytes(*usage);
  if (!bytes.ok()) return bytes.status();
  f.usage_bytes = *bytes;
  if (absl::StatusOr<std::string> stat = file("memory.stat"); stat.ok()) {
    std::optional<uint64_t> inactive =
        KeyedValue(*stat, cgroup.v2 ? "inactive_file" : "total_inactive_file");
    if (inactive) f.inactive_file_bytes = static_cast<int64_t>(*inactive);
    if (!cgroup.v2) {
      // A limit set on a parent (the pod's cgroup) binds this one too.
      std::optional<uint64_t> hier =
          KeyedValue(*stat, "hierarchical_memory_limit");
      if (hier && static_cast<int64_t>(*hier) < kNoLimitFrom &&
          (!f.limit_bytes || static_cast<int64_t>(*hier) < *f.limit_bytes)) {
        f.limit_bytes = static_cast<int64_t>(*hier);
      }
    }
  }
  if (absl::StatusOr<std::string> events =
          file(cgroup.v2 ? "memory.events" : "memory.oom_control");
      events.ok()) {
    f.oom_kills = KeyedValue(*events, "oom_kill");
  }
  return f;
}

std::string FormatBytes(int64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace corral::memory
