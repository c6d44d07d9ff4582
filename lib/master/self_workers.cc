#include "master/self_workers.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "master/spawn.h"
#include "options/options.h"
#include "pool/worker_env.h"

namespace corral::master {

SelfWorkers::SelfWorkers(std::vector<std::string> argv, int listen_fd,
                         int region_fd, const ConfigGenerations& configs,
                         std::vector<std::string> extra_env)
    : configs_(configs),
      exe_(SelfExePath()),
      argv_(std::move(argv)),
      base_env_(
          pool::InheritedEnv(CurrentEnvironment(), pool::WorkerKind::kSelf)),
      listen_fd_(listen_fd),
      region_fd_(region_fd) {
  for (std::string& kv : extra_env) base_env_.push_back(std::move(kv));
}

absl::StatusOr<pid_t> SelfWorkers::StartWorker(int index, int slot,
                                               int64_t generation) {
  SpawnRequest r;
  r.exe = exe_;
  r.argv = argv_;
  r.env = base_env_;
  r.env.push_back(absl::StrCat(pool::kRoleEnv, "=worker"));
  r.env.push_back(absl::StrCat(pool::kIndexEnv, "=", index));
  r.env.push_back(absl::StrCat(pool::kSlotEnv, "=", slot));
  r.env.push_back(absl::StrCat(pool::kGenerationEnv, "=", generation));
  r.env.push_back(absl::StrCat(pool::kListenFdEnv, "=", kListenFd));
  r.env.push_back(absl::StrCat(pool::kRegionFdEnv, "=", kRegionFd));
  r.env.push_back(absl::StrCat(pool::kConfigFdEnv, "=", kConfigFd));
  r.env.push_back(
      absl::StrCat(pool::kConfigHashEnv, "=", configs_.HashFor(generation)));
  r.listen_fd = listen_fd_;
  r.region_fd = region_fd_;
  r.config_fd = configs_.FdFor(generation);
  if (r.config_fd < 0) {
    return absl::InternalError(
        absl::StrCat("no config snapshot for generation ", generation));
  }
  return Spawn(r);
}

void SelfWorkers::Signal(pid_t pid, int sig) { kill(pid, sig); }

}  // namespace corral::master
