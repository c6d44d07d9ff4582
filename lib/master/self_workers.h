// Workers that are this binary again (an app built on lib/, or proxy mode's
// proxy workers): fork+exec of /proc/self/exe, told their part through the
// environment (pool/worker_env.h) and handed the listening socket, the
// metrics region and their config generation's sealed snapshot.
#ifndef CORRAL_MASTER_SELF_WORKERS_H_
#define CORRAL_MASTER_SELF_WORKERS_H_

#include <string>
#include <vector>

#include "master/config_generations.h"
#include "pool/pool.h"

namespace corral::master {

class SelfWorkers : public pool::ProcessControl {
 public:
  // `extra_env` ("KEY=value") goes to every worker besides what it inherits.
  SelfWorkers(std::vector<std::string> argv, int listen_fd, int region_fd,
              const ConfigGenerations& configs,
              std::vector<std::string> extra_env = {});

  absl::StatusOr<pid_t> StartWorker(int index, int slot,
                                    int64_t generation) override;
  void Signal(pid_t pid, int sig) override;

 private:
  const ConfigGenerations& configs_;
  std::string exe_;
  std::vector<std::string> argv_;
  std::vector<std::string> base_env_;
  int listen_fd_;
  int region_fd_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_SELF_WORKERS_H_
