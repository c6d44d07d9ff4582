// The pools the master cycle drives. In proxy mode there are two: the proxy
// workers in front (they hold the client connections) and the app processes
// behind them; otherwise the workers alone. What depends on the shape is
// written here once, so the cycle reads the same for all three.
#ifndef CORRAL_MASTER_POOLS_H_
#define CORRAL_MASTER_POOLS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string_view>

#include "command/command_workers.h"
#include "command/config_check.h"
#include "cpu/cpu_count.h"
#include "master/lifecycle_guards.h"
#include "master/proxied_pool.h"
#include "master/supervisor.h"
#include "pool/pool.h"

namespace corral::master {

struct Pools {
  // The workers: an app's, a command's copies, or proxy mode's app
  // processes. SIGHUP and config changes roll this pool.
  std::unique_ptr<pool::ProcessControl> worker_processes;
  std::unique_ptr<Supervisor> workers;
  // `corral --listen=ADDR -- CMD`: worker_processes, seen as what it is.
  command::CommandWorkers* command = nullptr;
  // --config-check, in the command shapes with --config-dir.
  std::unique_ptr<command::ConfigCheck> config_check;
  // Proxy mode only.
  std::unique_ptr<pool::ProcessControl> proxy_processes;
  std::unique_ptr<Supervisor> proxies;
  std::unique_ptr<ProxiedPool> proxied;
  // Which pools follow the pod's CPUs: those whose count no flag set
  // (--workers, --proxy-workers).
  bool workers_follow_cpus = false;
  bool proxies_follow_cpus = false;
  // Memory, age and request limits that recycle workers; OOM kills told
  // from crashes.
  std::unique_ptr<LifecycleGuards> guards;

  // The pool as probes, /status and metrics see it.
  const pool::PoolView& view() const;
  // The pool that holds the listening socket: the proxy workers in proxy
  // mode, else the workers.
  const Supervisor& front() const { return proxies ? *proxies : *workers; }
  void Start();
  // The front pool drains first; in proxy mode the app processes serve the
  // proxy workers until those have stopped (see Tick).
  void RequestShutdown(Shutdown how, std::string_view why);
  // A reaped child: whether it was a worker of ours or the config check.
  bool OnChildExit(pid_t pid, int status);
  // After a signal: each supervisor acts on it at once.
  void TickSupervisors();
  // Every tick: heartbeats and readiness of the command's copies, then the
  // supervisors, then the lifecycle guards. Returns the config generations
  // still in use.
  std::set<int64_t> Tick();
  // The pod's CPUs changed (CpuFollower): the pools that follow them resize.
  void FollowCpus(const cpu::CpuCount& cpus);
  // Drops what generations no longer in use left behind.
  void Prune(const std::set<int64_t>& in_use);
  bool Finished() const;
  int ExitCode() const;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_POOLS_H_
