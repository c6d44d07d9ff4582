#include "memory/process_memory.h"

#include <dirent.h>


#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sysfs/read_file.h"

namespace corral::memory {
namespace {

using sysfs::ReadFile;

// "Key:   1234 kB" lines: the value of `key` in bytes.
std::optional<int64_t> KilobyteField(absl::string_view text,
                                     absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&line, key) || !absl::ConsumePrefix(&line, ":")) {
      continue;
    }
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumeSuffix(&line, "kB")) return std::nullopt;
    int64_t kb = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kb)) {
      return std::nullopt;
    }
    return kb * 1024;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ParsePrivateBytes(absl::string_view smaps_rollup) {
  std::optional<int64_t> clean = KilobyteField(smaps_rollup, "Private_Clean");
  std::optional<int64_t> dirty = KilobyteField(smaps_rollup, "Private_Dirty");
  if (!clean || !dirty) return std::nullopt;
  return *clean + *dirty;
}

std::optional<int64_t> ParseRssBytes(absl::string_view status) {
  return KilobyteField(status, "VmRSS");
}

std::vector<pid_t> ProcessTree(pid_t pid, const std::string& proc) {
  std::vector<pid_t> tree = {pid};
  // Breadth first; a process listed twice (a race with a re-parent) is
  // harmless for a sum that is an estimate anyway, but bounded.
  for (size_t i = 0; i < tree.size() && tree.size() < 4096; ++i) {
    std::string tasks = absl::StrCat(proc, "/", tree[i], "/task");
    DIR* dir = opendir(tasks.c_str());
    if (dir == nullptr) continue;
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      std::optional<std::string> kids =
          ReadFile(absl::StrCat(tasks, "/", e->d_name, "/children"));
      if (!kids) continue;
      for (absl::string_view k :
           absl::StrSplit(*kids, ' ', absl::SkipWhitespace())) {
        pid_t child = 0;
        if (absl::SimpleAtoi(k, &child)) tree.push_back(child);
      }
    }
    closedir(dir);
  }
  return tree;
}

std::optional<int64_t> TreeMemory(pid_t pid, const std::string& proc) {
  std::optional<int64_t> total;
  for (pid_t p : ProcessTree(pid, proc)) {
    std::string base = absl::StrCat(proc, "/", p);
    std::optional<int64_t> bytes;
    if (std::optional<std::string> rollup = ReadFile(base + "/smaps_rollup")) {
      bytes = ParsePrivateBytes(*rollup);
    }
    if (!bytes) {
      if (std::optional<std::string> status = ReadFile(base + "/status")) {
        bytes = ParseRssBytes(*status);
      }
    }
    if (bytes) total = total.value_or(0) + *bytes;
  }
  return total;
}

}  // namespace corral::memory
