// What the master tells a worker it starts through the environment: the
// contract between the two cycles, kept apart from both.
#ifndef CORRAL_POOL_WORKER_ENV_H_
#define CORRAL_POOL_WORKER_ENV_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace corral::pool {

// What the master told this worker through its environment.
struct WorkerEnv {
  int index = 0;
  int slot = 0;
  int64_t generation = 0;
  int listen_fd = 3;
  int region_fd = 4;
  int config_fd = 5;
  std::string config_hash;
  // The slots of this worker's pool ("first:count"); count 0 when the pool
  // has the whole region.
  int siblings_first = 0;
  int siblings_count = 0;
};

// Environment variable names shared by master and worker.
inline constexpr char kRoleEnv[] = "CORRAL_ROLE";
inline constexpr char kIndexEnv[] = "CORRAL_WORKER_INDEX";
inline constexpr char kSlotEnv[] = "CORRAL_WORKER_SLOT";
inline constexpr char kGenerationEnv[] = "CORRAL_GENERATION";
inline constexpr char kListenFdEnv[] = "CORRAL_LISTEN_FD";
inline constexpr char kRegionFdEnv[] = "CORRAL_REGION_FD";
inline constexpr char kConfigFdEnv[] = "CORRAL_CONFIG_FD";
inline constexpr char kConfigHashEnv[] = "CORRAL_CONFIG_HASH";
inline constexpr char kSiblingsEnv[] = "CORRAL_WORKER_SIBLINGS";

// "first:count", as kSiblingsEnv and proxy mode's app slots spell a run of
// slots.
std::string FormatSlots(int first, int count);
bool ParseSlots(std::string_view text, int* first, int* count);

// Proxy mode with --app-socket-dir: the unix socket an app process listens
// on, named by the id the master gave it (the id travels in the shared
// region where a TCP app process's port does).
// ("DIR/app-ID.sock"; --app-socket-dir bounds DIR so that it fits.)
std::string AppSocketPath(std::string_view dir, uint32_t id);

absl::StatusOr<WorkerEnv> ParseWorkerEnv(
    const std::map<std::string, std::string>& env);

}  // namespace corral::pool

#endif  // CORRAL_POOL_WORKER_ENV_H_
