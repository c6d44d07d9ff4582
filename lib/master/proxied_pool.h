// Proxy mode's pool as probes, /status and metrics see it: the app
// processes, with the proxy workers in front. Ready only when both are; a
// shutdown shows from the moment the proxy workers begin theirs.
#ifndef CORRAL_MASTER_PROXIED_POOL_H_
#define CORRAL_MASTER_PROXIED_POOL_H_

#include "master/supervisor.h"
#include "pool/pool.h"
#include "region/shared_region.h"

namespace corral::master {

class ProxiedPool : public pool::PoolView {
 public:
  ProxiedPool(const Supervisor& apps, const Supervisor& proxies)
      : apps_(apps), proxies_(proxies) {}

  pool::ProbeResult Live() const override;
  pool::ProbeResult Ready() const override;
  pool::ProbeResult Started() const override;
  PoolState state() const override;
  int workers_wanted() const override { return apps_.workers_wanted(); }
  int64_t generation() const override { return apps_.generation(); }
  std::vector<pool::WorkerView> Workers() const override {
    return apps_.Workers();
  }
  const pool::PoolCounts& counts() const override { return apps_.counts(); }
  nlohmann::json StatusJson() const override;

 private:
  const Supervisor& apps_;
  const Supervisor& proxies_;
};

// Admission in proxy mode, for /status: each app process's limit on
// requests in flight and its requests in flight, and the queue.
struct AdmissionView {
  bool adaptive = true;
  int app_concurrency = 0;
  region::SlotRange proxies;
};
nlohmann::json AdmissionStatusJson(const AdmissionView& view,
                                   const region::SharedRegion& region,
                                   const std::vector<pool::WorkerView>& apps);

}  // namespace corral::master

#endif  // CORRAL_MASTER_PROXIED_POOL_H_
