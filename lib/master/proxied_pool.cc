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

}  // namespace corral::master
