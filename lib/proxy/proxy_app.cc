#include "proxy/proxy_app.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "options/options.h"
#include "pool/worker_env.h"
#include "proxy/proxy.h"

namespace corral::proxy {
namespace {

// The adaptive limit's bound when --app-concurrency sets none (Envoy's
// default too).
constexpr int kDefaultMaxConcurrency = 1000;

}  // namespace

App ProxyApp() {
  App app;
  app.name = "corral";
  app.version = CORRAL_VERSION;
  app.setup = [](WorkerContext& context) -> absl::Status {
    std::map<std::string, std::string> env = CurrentEnvironment();
    auto worker = pool::ParseWorkerEnv(env);
    if (!worker.ok()) return worker.status();
    SlotRange apps;
    int queue_share = 0;
    if (!pool::ParseSlots(env[pool::kProxyAppSlotsEnv], &apps.first,
                          &apps.count) ||
        worker->siblings_count == 0 ||
        !absl::SimpleAtoi(env[pool::kProxyQueueShareEnv], &queue_share)) {
      return absl::FailedPreconditionError(
          "a proxy worker needs the app processes' slots, its siblings' and "
          "its queue share in its environment");
    }
    SlotRange proxies{worker->siblings_first, worker->siblings_count};
    auto region = region::SharedRegion::Attach(worker->region_fd);
    if (!region.ok()) return region.status();
    // Both live as long as the worker's loop: the handler owns them.
    auto shared_region =
        std::make_shared<region::SharedRegion>(std::move(*region));
    const Options& o = context.options();
    ProxySettings s;
    s.apps = apps;
    s.proxies = proxies;
    s.own_slot = worker->slot;
    s.app_concurrency = o.app_concurrency;
    s.adaptive = o.adaptive_concurrency;
    s.limiter.max_limit =
        o.app_concurrency > 0 ? o.app_concurrency : kDefaultMaxConcurrency;
    s.limiter.min_limit = std::min(s.limiter.min_limit, s.limiter.max_limit);
    s.max_queue = queue_share;
    s.queue_timeout =
        std::chrono::milliseconds(absl::ToInt64Milliseconds(o.queue_timeout));
    s.queue_target =
        std::chrono::milliseconds(absl::ToInt64Milliseconds(o.queue_target));
    s.queue_interval =
        std::chrono::milliseconds(absl::ToInt64Milliseconds(o.queue_interval));
    auto priority = overload::PriorityRules::Parse(o.priority);
    if (!priority.ok()) return priority.status();
    s.priority = *std::move(priority);
    s.upstream_timeout = std::chrono::milliseconds(
        absl::ToInt64Milliseconds(o.upstream_timeout));
    s.request_deadline = std::chrono::milliseconds(
        absl::ToInt64Milliseconds(o.request_deadline));
    s.app_sockets = env[pool::kProxyAppSocketsEnv];
    s.websocket_drain =
        std::chrono::milliseconds(absl::ToInt64Milliseconds(o.websocket_drain));
    auto proxy = std::make_shared<Proxy>(context.io(), *shared_region, s);
    context.router().Forward(
        [proxy, shared_region](const http::Request& request,
                               std::shared_ptr<http::ResponseWriter> writer) {
          proxy->Handle(request, std::move(writer));
        });
    for (const std::string& t : o.routes) context.router().Label(t);
    return absl::OkStatus();
  };
  return app;
}

}  // namespace corral::proxy
