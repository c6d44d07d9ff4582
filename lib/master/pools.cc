#include "master/pools.h"

#include <algorithm>
#include <string>

namespace corral::master {

const pool::PoolView& Pools::view() const {
  if (proxied) return *proxied;
  return *workers;
}

void Pools::Start() {
  workers->Start();
  if (proxies) proxies->Start();
}

void Pools::RequestShutdown(Shutdown how, std::string_view why) {
  (proxies ? *proxies : *workers).RequestShutdown(how, std::string(why));
}

bool Pools::OnChildExit(pid_t pid, int status) {
  if (workers->OnChildExit(pid, status)) {
    if (command) command->Forget(pid);
    return true;
  }
  if (proxies && proxies->OnChildExit(pid, status)) return true;
  return config_check && config_check->OnChildExit(pid, status);
}

void Pools::TickSupervisors() {
  workers->Tick();
  if (proxies) proxies->Tick();
}

std::set<int64_t> Pools::Tick() {
  if (command) command->Tick();
  workers->Tick();
  std::set<int64_t> in_use = workers->GenerationsInUse();
  if (proxies) {
    proxies->Tick();
    if (proxies->Finished() && workers->state() != PoolState::kDraining &&
        workers->state() != PoolState::kStopped) {
      workers->RequestShutdown(Shutdown::kSkipDelay,
                               "the proxy workers have stopped");
    }
    in_use.merge(proxies->GenerationsInUse());
  }
  if (guards) guards->Tick();
  return in_use;
}

void Pools::FollowCpus(const cpu::CpuCount& cpus) {
  std::string reason = "the pod's CPUs changed: " + cpus.how;
  if (workers_follow_cpus) {
    workers->Resize(cpus.workers, reason);
    if (command) command->set_workers(cpus.workers);
  }
  if (proxies && proxies_follow_cpus) proxies->Resize(cpus.workers, reason);
}

void Pools::Prune(const std::set<int64_t>& in_use) {
  if (command) command->PruneConfigDirs(in_use);
}

bool Pools::Finished() const {
  return workers->Finished() && (!proxies || proxies->Finished());
}

int Pools::ExitCode() const {
  int code = workers->ExitCode();
  if (proxies) code = std::max(code, proxies->ExitCode());
  return code;
}

}  // namespace corral::master
