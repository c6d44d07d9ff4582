// What the master tells a worker it starts through the environment: the
// contract between the two cycles, kept apart from both.
#ifndef CORRAL_POOL_WORKER_ENV_H_
#define CORRAL_POOL_WORKER_ENV_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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

// Environment variable names shared by master and worker. A command's
// copies get kIndexEnv and kGenerationEnv too: one name for each thing.
inline constexpr char kRoleEnv[] = "CORRAL_ROLE";
inline constexpr char kIndexEnv[] = "CORRAL_WORKER";
inline constexpr char kSlotEnv[] = "CORRAL_WORKER_SLOT";
inline constexpr char kGenerationEnv[] = "CORRAL_CONFIG_GENERATION";
inline constexpr char kListenFdEnv[] = "CORRAL_LISTEN_FD";
inline constexpr char kRegionFdEnv[] = "CORRAL_REGION_FD";
inline constexpr char kConfigFdEnv[] = "CORRAL_CONFIG_FD";
inline constexpr char kConfigHashEnv[] = "CORRAL_CONFIG_HASH";
inline constexpr char kSiblingsEnv[] = "CORRAL_WORKER_SIBLINGS";
// Proxy mode's proxy workers: the app processes' slots ("first:count"),
// this worker's share of --max-queue, and the directory of the app
// processes' unix sockets (empty: they listen on ports).
inline constexpr char kProxyAppSlotsEnv[] = "CORRAL_PROXY_APP_SLOTS";
inline constexpr char kProxyQueueShareEnv[] = "CORRAL_PROXY_QUEUE_SHARE";
inline constexpr char kProxyAppSocketsEnv[] = "CORRAL_PROXY_APP_SOCKETS";

// What a command's copy (`corral --listen=ADDR -- CMD`) is told, besides
// the systemd protocols' LISTEN_FDS, NOTIFY_SOCKET and WATCHDOG_USEC.
// CORRAL_WORKERS and CORRAL_CONFIG_DIR are also the variables of --workers
// and --config-dir; a copy gets corral's own meaning of them.
inline constexpr char kCommandWorkersEnv[] = "CORRAL_WORKERS";
inline constexpr char kCommandConfigDirEnv[] = "CORRAL_CONFIG_DIR";
inline constexpr char kReadyFdEnv[] = "CORRAL_READY_FD";
inline constexpr char kPortEnv[] = "PORT";

// Whose environment InheritedEnv builds: a worker that is this binary
// again (an app's worker, a proxy worker), or a copy of a command.
enum class WorkerKind { kSelf, kCommand };

// The master's environment as a worker inherits it, "KEY=value": without
// any variable corral sets for the workers it starts, so the master's own
// values of them (from whatever started the master) never reach a worker.
// A worker of kSelf keeps the variables of flags, which it reads again.
std::vector<std::string> InheritedEnv(
    const std::map<std::string, std::string>& env, WorkerKind kind);

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
