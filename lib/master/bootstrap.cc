#include "master/bootstrap.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "config/config_dir.h"
#include "cpu/cpu_count.h"
#include "log/log.h"
#include "master/command_shape.h"
#include "master/listen_socket.h"
#include "master/proxied_pool.h"
#include "master/self_workers.h"

namespace corral::master {
namespace {

// Logs why the master cannot start, and passes the error on.
absl::Status Failed(std::string_view what, absl::Status error,
                    nlohmann::json fields = nlohmann::json::object()) {
  fields["error"] = std::string(error.message());
  log::Error(what, fields);
  return error;
}

// The first config must be valid: there is no last good one to fall back on.
absl::Status LoadFirstConfig(const Options& options,
                             ConfigGenerations& configs) {
  const bool from_dir = !options.config_dir.empty();
  ConfigGenerations::Outcome first = configs.Offer(
      from_dir ? config::ReadSnapshot(options.config_dir) : config::Snapshot(),
      from_dir ? options.config_dir : "built-in defaults");
  if (first.kind == ConfigGenerations::Outcome::Kind::kRejected) {
    return absl::FailedPreconditionError(first.error);
  }
  log::Info("config loaded", {{"generation", first.generation},
                              {"hash", first.hash},
                              {"keys", first.keys},
                              {"ignored_keys", first.ignored},
                              {"config_dir", options.config_dir}});
  return absl::OkStatus();
}

// The metrics region holds a slot per worker, with room for each pool's
// draining workers beside its serving ones; in proxy mode the app
// processes' slots come first, the proxy workers' after them.
int RegionSlots(bool proxied, int workers, ProxyLayout& layout) {
  if (!proxied) return std::max(64, workers * 4);
  layout.app_slots = {
      0, std::min(region::kMaxUpstreams, std::max(16, workers * 4))};
  layout.proxy_slots = {layout.app_slots.count,
                        std::max(16, layout.proxies * 4)};
  return layout.app_slots.count + layout.proxy_slots.count;
}

// Metrics and the admin server, over whichever pools the shape has.
void MakeAdmin(boost::asio::ip::tcp::acceptor admin_acceptor,
               const ProxyLayout& layout, const Options& options,
               MasterParts& parts) {
  Pools& pools = parts.pools;
  parts.collector = std::make_unique<metrics::Collector>(
      parts.app.name, parts.app.version, pools.view(), *parts.region);
  metrics::Collector& collector = *parts.collector;
  collector.SetConfig(parts.configs.generation(), parts.configs.hash(),
                      parts.configs.rejected());
  // A command's copies record no requests of their own; in proxy mode the
  // proxy workers count them (SetProxies).
  collector.SetRequestMetrics(pools.command == nullptr);
  pools.workers->OnSlotRetired(
      [&collector](int slot) { collector.RetireSlot(slot); });
  if (pools.proxies) {
    collector.SetProxies(pools.proxies.get(), layout.proxy_slots);
    collector.SetConcurrency(options.adaptive_concurrency,
                             options.app_concurrency);
    pools.proxies->OnSlotRetired(
        [&collector](int slot) { collector.RetireSlot(slot); });
  }
  parts.admin = std::make_unique<admin::AdminServer>(
      parts.io, std::move(admin_acceptor), pools.view());
  const bool proxied = pools.proxies != nullptr;
  const AdmissionView admission{options.adaptive_concurrency,
                                options.app_concurrency, layout.proxy_slots};
  parts.admin->SetStatusExtra([&parts, proxied, admission]() {
    nlohmann::json j = {{"config", parts.configs.StatusJson()}};
    if (parts.pools.command) j["command"] = parts.pools.command->StatusJson();
    if (parts.cpus) {
      j["cpus"] = {{"workers", parts.cpus->current().workers},
                   {"how", parts.cpus->current().how}};
    }
    if (proxied) {
      j["admission"] = AdmissionStatusJson(admission, *parts.region,
                                           parts.pools.workers->Workers());
    }
    return j;
  });
  parts.admin->Add(
      "/metrics", [&collector](const http::Request&, http::Respond respond) {
        http::Response r = http::Response::Text(200, collector.Scrape());
        r.content_type = metrics::kContentType;
        respond(std::move(r));
      });
}

// The lifecycle guards over whichever pools the shape has; the limits per
// worker go to the app's workers (proxy mode: the app processes).
void MakeGuards(const Options& options, MasterParts& parts) {
  GuardSettings g;
  g.memory.threshold = options.memory_guard;
  g.limits.max_requests = static_cast<uint64_t>(options.max_requests);
  g.limits.max_requests_jitter =
      static_cast<uint64_t>(options.max_requests_jitter);
  g.limits.max_age = options.max_worker_age;
  g.limits.max_age_jitter = options.max_worker_age_jitter;
  g.limits.max_worker_memory = options.max_worker_memory;
  Pools& pools = parts.pools;
  pools.guards = std::make_unique<LifecycleGuards>(g, memory::Locate(),
                                                   *parts.region, parts.clock);
  pools.guards->Watch(*pools.workers, true);
  if (pools.proxies) pools.guards->Watch(*pools.proxies, false);
  pools.guards->LogSetUp();
}

}  // namespace

absl::Status Bootstrap(const Options& options,
                       const std::vector<std::string>& argv,
                       const std::vector<std::string>& command,
                       MasterParts& parts) {
  cpu::CpuCount cpus = cpu::Detect();
  int workers = options.workers.value_or(cpus.workers);
  log::Info(
      "worker count",
      {{"workers", workers},
       {"how", options.workers ? std::string("set by --workers") : cpus.how},
       {"cpus_detected", cpus.workers},
       {"follows_cpus", !options.workers.has_value()}});

  int backlog = Somaxconn();
  auto listener = Listen(parts.io, options.listen, backlog);
  if (!listener.ok()) return Failed("cannot start", listener.status());
  parts.listener.emplace(std::move(*listener));
  auto admin_acceptor = Listen(parts.io, options.admin, 1024);
  if (!admin_acceptor.ok()) {
    return Failed("cannot start", admin_acceptor.status());
  }
  const bool proxied = options.proxy && !command.empty();
  ProxyLayout layout;
  layout.proxies = options.proxy_workers.value_or(cpus.workers);
  // A pool that follows the pod's CPUs may grow to every CPU it may run on:
  // the region has its slots from the start.
  const bool workers_follow = !options.workers.has_value();
  const bool proxies_follow = proxied && !options.proxy_workers.has_value();
  ProxyLayout room = layout;
  if (proxies_follow)
    room.proxies = std::max(layout.proxies, cpus.affinity_cpus);
  const int slots = RegionSlots(
      proxied, workers_follow ? std::max(workers, cpus.affinity_cpus) : workers,
      room);
  layout.app_slots = room.app_slots;
  layout.proxy_slots = room.proxy_slots;
  if (proxied) {
    log::Info(
        "proxy mode: corral's proxy workers hold the client "
        "connections and forward to the app processes",
        {{"proxy_workers", layout.proxies},
         {"how", options.proxy_workers
                     ? std::string("set by --proxy-workers")
                     : std::string("one per CPU the pod may use")},
         {"app_concurrency", options.app_concurrency},
         {"max_queue", options.max_queue}});
  }
  auto region = region::SharedRegion::Create(slots);
  if (!region.ok()) {
    return Failed("cannot create the metrics region", region.status());
  }
  parts.region.emplace(std::move(*region));
  if (absl::Status s = LoadFirstConfig(options, parts.configs); !s.ok()) {
    return Failed("cannot start: config rejected", s,
                  {{"config_dir", options.config_dir}});
  }

  SupervisorConfig config;
  config.workers = workers;
  config.drain_delay = options.drain_delay;
  config.ready_through_drain_delay = !options.readiness_fails_at_term;
  config.drain_timeout = options.drain_timeout;
  config.worker_start_timeout = options.worker_start_timeout;
  config.worker_timeout = options.worker_timeout;
  config.crash_loop_limit = options.crash_loop_limit;
  config.slots = layout.app_slots;
  if (proxied) config.name = "app";
  if (command.empty()) {
    parts.pools.worker_processes =
        std::make_unique<SelfWorkers>(argv, parts.listener->native_handle(),
                                      parts.region->fd(), parts.configs);
    parts.pools.workers = std::make_unique<Supervisor>(
        config, *parts.pools.worker_processes, *parts.region, parts.clock);
  } else if (absl::Status s =
                 MakeCommandWorkers(options, command, config, layout, parts);
             !s.ok()) {
    return Failed("cannot start", s);
  }
  if (proxied) MakeProxies(options, argv, config, layout, parts);
  parts.pools.workers_follow_cpus = workers_follow;
  parts.pools.proxies_follow_cpus = proxies_follow;
  if (workers_follow || proxies_follow) {
    parts.cpus = std::make_unique<CpuFollower>(cpus, cpu::Detect, parts.clock);
  }

  MakeGuards(options, parts);
  MakeAdmin(std::move(*admin_acceptor), layout, options, parts);
  log::Info("listening", {{"app", parts.app.name},
                          {"version", parts.app.version},
                          {"listen", FormatEndpoint(options.listen)},
                          {"port", parts.listener->local_endpoint().port()},
                          {"admin", FormatEndpoint(options.admin)},
                          {"admin_port", parts.admin->port()},
                          {"backlog", backlog},
                          {"pid1", getpid() == 1}});
  return absl::OkStatus();
}

}  // namespace corral::master
