#include "master/proxied_pool.h"

#include <string>

namespace corral::master {
namespace {

pool::ProbeResult Both(pool::ProbeResult apps, pool::ProbeResult proxies) {
  if (!proxies.ok) return {false, "proxy workers: " + proxies.why};
  if (!apps.ok) return {false, "app processes: " + apps.why};
  return apps;
}

}  // namespace

pool::ProbeResult ProxiedPool::Live() const {
  return Both(apps_.Live(), proxies_.Live());
}

pool::ProbeResult ProxiedPool::Ready() const {
  return Both(apps_.Ready(), proxies_.Ready());
}

pool::ProbeResult ProxiedPool::Started() const {
  return Both(apps_.Started(), proxies_.Started());
}

PoolState ProxiedPool::state() const {
  PoolState p = proxies_.state();
  if (p == PoolState::kDrainDelay || p == PoolState::kDraining) return p;
  return apps_.state();
}

nlohmann::json ProxiedPool::StatusJson() const {
  nlohmann::json j = apps_.StatusJson();
  j["state"] = std::string(pool::Name(state()));
  j["proxy_workers"] = proxies_.StatusJson();
  return j;
}

nlohmann::json AdmissionStatusJson(const AdmissionView& view,
                                   const region::SharedRegion& region,
                                   const std::vector<pool::WorkerView>& apps) {
  nlohmann::json list = nlohmann::json::array();
  for (const pool::WorkerView& w : apps) {
    const int limit =
        view.adaptive
            ? region.slot(w.slot).concurrency_limit.load(
                  std::memory_order_relaxed)
            : view.app_concurrency;
    const int64_t min_rtt =
        region.slot(w.slot).min_rtt_ns.load(std::memory_order_relaxed);
    // Adaptive: each class's limit and requests in flight.
    nlohmann::json classes = nlohmann::json::object();
    for (int c = 0; view.adaptive && c < overload::kPriorities; ++c) {
      const auto priority = static_cast<overload::Priority>(c);
      classes[std::string(overload::Name(priority))] = {
          {"limit", region.slot(w.slot).class_limit[static_cast<size_t>(c)]
                        .load(std::memory_order_relaxed)},
          {"in_flight", region::UpstreamClassInFlight(region, view.proxies,
                                                      w.slot, priority)}};
    }
    list.push_back(
        {{"worker", w.index},
         {"slot", w.slot},
         {"concurrency_limit", limit},
         {"classes", classes},
         {"min_rtt_seconds",
          min_rtt == 0 ? nlohmann::json(nullptr)
                       : nlohmann::json(static_cast<double>(min_rtt) / 1e9)},
         {"in_flight",
          region::UpstreamInFlight(region, view.proxies, w.slot)}});
  }
  int64_t queued = 0;
  for (int p = view.proxies.first; p < view.proxies.first + view.proxies.count;
       ++p) {
    queued += region.slot(p).queued.load(std::memory_order_relaxed);
  }
  return {{"adaptive", view.adaptive},
          {"app_concurrency", view.app_concurrency},
          {"apps", list},
          {"queued", queued}};
}

}  // namespace corral::master
