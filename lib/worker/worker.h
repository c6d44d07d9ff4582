// The worker cycle: one thread, one event loop, serving the listening socket
// it inherited until the master tells it to drain (SIGTERM).
#ifndef CORRAL_WORKER_WORKER_H_
#define CORRAL_WORKER_WORKER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "corral/app.h"
#include "options/options.h"

namespace corral::worker {

// What the master told this worker through its environment.
struct WorkerEnv {
  int index = 0;
  int slot = 0;
  int64_t generation = 0;
  int listen_fd = 3;
  int region_fd = 4;
  int config_fd = 5;
  std::string config_hash;
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

absl::StatusOr<WorkerEnv> ParseWorkerEnv(
    const std::map<std::string, std::string>& env);

// Exit codes: 0 after a drain, kExitStartFailed when the app's setup failed.
inline constexpr int kExitStartFailed = 78;  // EX_CONFIG

int RunWorker(const App& app, const Options& options, const WorkerEnv& env);

}  // namespace corral::worker

#endif  // CORRAL_WORKER_WORKER_H_
