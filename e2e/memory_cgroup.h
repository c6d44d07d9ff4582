// A cgroup v1 memory cgroup of the test's own, with a real limit: made
// below the memory cgroup the test runs in (so it never leaves that one's
// limits), removed once its processes are gone. The kernel then enforces
// the limit and counts its OOM kills (memory.oom_control), as in a pod.
#ifndef CORRAL_E2E_MEMORY_CGROUP_H_
#define CORRAL_E2E_MEMORY_CGROUP_H_

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "harness.h"

namespace corral::e2e {

class MemoryCgroup {
 public:
  // nullopt when this machine has no writable v1 memory controller.
  static std::optional<MemoryCgroup> Make(int64_t limit_bytes) {
    std::ifstream self("/proc/self/cgroup");
    std::string line, parent;
    while (std::getline(self, line)) {
      size_t a = line.find(':');
      size_t b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      std::stringstream controllers(line.substr(a + 1, b - a - 1));
      for (std::string c; std::getline(controllers, c, ',');) {
        if (c == "memory") parent = line.substr(b + 1);
      }
    }
    if (parent.empty()) return std::nullopt;
    static int made = 0;
    std::filesystem::path dir =
        std::filesystem::path("/sys/fs/cgroup/memory" + parent) /
        ("corral-e2e-" + std::to_string(getpid()) + "-" +
         std::to_string(++made));
    std::error_code ec;
    if (!std::filesystem::create_directory(dir, ec)) return std::nullopt;
    MemoryCgroup cg(dir.string());
    if (!cg.Write("memory.limit_in_bytes", std::to_string(limit_bytes))) {
      return std::nullopt;
    }
    // With swap, the limit would page out rather than kill: none, here.
    cg.Write("memory.swappiness", "0");
    return cg;
  }

  MemoryCgroup(MemoryCgroup&& o) noexcept : dir_(std::move(o.dir_)) {
    o.dir_.clear();
  }
  MemoryCgroup(const MemoryCgroup&) = delete;
  ~MemoryCgroup() {
    if (dir_.empty()) return;
    // Processes leave it when they exit; the directory goes after them.
    PollUntil([this] { return Read("cgroup.procs").empty(); }, 10s);
    std::filesystem::remove(dir_);
  }

  const std::string& dir() const { return dir_; }
  std::string Read(const std::string& file) const {
    std::ifstream in(dir_ + "/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The kernel's OOM kills in this cgroup so far.
  int64_t OomKills() const {
    std::istringstream in(Read("memory.oom_control"));
    std::string key;
    int64_t value = 0;
    while (in >> key >> value) {
      if (key == "oom_kill") return value;
    }
    return -1;
  }
  int64_t MaxUsage() const {
    return std::stoll(Read("memory.max_usage_in_bytes"));
  }

 private:
  explicit MemoryCgroup(std::string dir) : dir_(std::move(dir)) {}
  bool Write(const std::string& file, const std::string& value) const {
    std::ofstream out(dir_ + "/" + file);
    out << value;
    out.flush();
    return static_cast<bool>(out);
  }

  std::string dir_;
};

}  // namespace corral::e2e

#endif  // CORRAL_E2E_MEMORY_CGROUP_H_
