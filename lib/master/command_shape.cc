#include "master/command_shape.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "log/log.h"
#include "master/self_workers.h"
#include "pool/worker_env.h"

namespace corral::master {
namespace {

// A directory of this master's own under parent ("corral-XXXXXX"), for
// `what`; the hint says how to fix a failure.
absl::StatusOr<std::string> PrivateDir(const std::string& parent,
                                       absl::string_view what,
                                       absl::string_view hint) {
  std::string pattern = absl::StrCat(parent, "/corral-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make a directory for ", what, " (", pattern, "; ",
                     hint, "): ", std::strerror(errno)));
  }
  return pattern;
}

}  // namespace

absl::Status MakeCommandWorkers(const Options& options,
                                const std::vector<std::string>& command,
                                const SupervisorConfig& config,
                                const ProxyLayout& layout, MasterParts& parts) {
  command::CommandSettings s;
  s.command = command;
  s.env = pool::InheritedEnv(CurrentEnvironment(), pool::WorkerKind::kCommand);
  s.listen_fd = parts.listener->native_handle();
  s.workers = config.workers;
  s.stop_signal = options.stop_signal;
  s.proxied = options.proxy;
  s.proxies = layout.proxy_slots;
  s.ready = EffectiveReadiness(options);
  s.ready_after = options.ready_after;
  s.watchdog = options.worker_timeout;
  if (!options.config_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    absl::StatusOr<std::string> dir =
        PrivateDir(tmp != nullptr && *tmp ? tmp : "/tmp", "config snapshots",
                   "set TMPDIR to a writable place");
    if (!dir.ok()) return dir.status();
    s.state_dir = *dir;
  }
  if (options.proxy && !options.app_socket_dir.empty()) {
    absl::StatusOr<std::string> dir =
        PrivateDir(options.app_socket_dir, "the app processes' sockets",
                   "--app-socket-dir must be a writable directory");
    if (!dir.ok()) return dir.status();
    s.socket_dir = *dir;
  }
  log::Info("workers run a command",
            {{"command", absl::StrJoin(command, " ")},
             {"ready",
              absl::StrCat("a worker is ready ",
                           command::DescribeReadiness(s.ready, s.ready_after,
                                                      !s.socket_dir.empty()))},
             {"stop_signal", sigabbrev_np(options.stop_signal)},
             {"config_snapshots", s.state_dir},
             {"app_sockets", s.socket_dir}});
  if (!options.config_check.empty() && !s.state_dir.empty()) {
    parts.pools.config_check = std::make_unique<command::ConfigCheck>(
        parts.io, options.config_check, s.state_dir + "/check",
        options.worker_start_timeout);
  }
  auto workers = std::make_unique<command::CommandWorkers>(
      parts.io, std::move(s), *parts.region, parts.clock,
      [&configs = parts.configs](int64_t g) { return configs.FdFor(g); });
  parts.pools.command = workers.get();
  parts.pools.worker_processes = std::move(workers);
  parts.pools.workers = std::make_unique<Supervisor>(
      config, *parts.pools.worker_processes, *parts.region, parts.clock);
  return absl::OkStatus();
}

void MakeProxies(const Options& options, const std::vector<std::string>& argv,
                 const SupervisorConfig& apps, const ProxyLayout& layout,
                 MasterParts& parts) {
  Pools& pools = parts.pools;
  const int share = (options.max_queue + layout.proxies - 1) / layout.proxies;
  pools.proxy_processes = std::make_unique<SelfWorkers>(
      argv, parts.listener->native_handle(), parts.region->fd(), parts.configs,
      std::vector<std::string>{
          absl::StrCat(pool::kSiblingsEnv, "=",
                       pool::FormatSlots(layout.proxy_slots.first,
                                         layout.proxy_slots.count)),
          absl::StrCat(pool::kProxyAppSlotsEnv, "=",
                       pool::FormatSlots(layout.app_slots.first,
                                         layout.app_slots.count)),
          absl::StrCat(pool::kProxyQueueShareEnv, "=", share),
          absl::StrCat(pool::kProxyAppSocketsEnv, "=",
                       pools.command->socket_dir())});
  SupervisorConfig config = apps;
  config.workers = layout.proxies;
  config.slots = layout.proxy_slots;
  config.name = "proxy";
  pools.proxies = std::make_unique<Supervisor>(config, *pools.proxy_processes,
                                               *parts.region, parts.clock);
  pools.proxied = std::make_unique<ProxiedPool>(*pools.workers, *pools.proxies);
}

}  // namespace corral::master
