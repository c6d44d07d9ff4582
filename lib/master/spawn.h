// fork+exec of a worker: a clean process image every time, and a rolling
// restart picks up a new binary on disk.
#ifndef CORRAL_MASTER_SPAWN_H_
#define CORRAL_MASTER_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace corral::master {

// The inherited descriptors' numbers in the worker.
inline constexpr int kListenFd = 3;
inline constexpr int kRegionFd = 4;
inline constexpr int kConfigFd = 5;

struct SpawnRequest {
  std::string exe;                // absolute path of the binary
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // complete environment, "KEY=value"
  int listen_fd = -1;             // becomes kListenFd
  int region_fd = -1;             // becomes kRegionFd
  int config_fd = -1;             // becomes kConfigFd
};

// The child gets its own process group (a terminal's Ctrl-C reaches only the
// master, which drains in order) and dies with the master (PDEATHSIG).
absl::StatusOr<pid_t> Spawn(const SpawnRequest& request);

// The path /proc/self/exe points at now.
std::string SelfExePath();

}  // namespace corral::master

#endif  // CORRAL_MASTER_SPAWN_H_
