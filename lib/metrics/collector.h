// The master's /metrics: a prometheus-cpp Collectable that reads the shared
// region (never the workers themselves), the retired totals and the pool's
// counts at scrape time.
#ifndef CORRAL_METRICS_COLLECTOR_H_
#define CORRAL_METRICS_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/request_totals.h"
#include "pool/pool.h"
#include "region/shared_region.h"

namespace corral::metrics {

// The content type of the Prometheus text format.
inline constexpr char kContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

class Collector : public prometheus::Collectable {
 public:
  Collector(std::string app, std::string version, const pool::PoolView& pool,
            const region::SharedRegion& region);

  // A worker left: keep its counters and buckets for good.
  void RetireSlot(int slot);

  // The live config's generation and content hash, and how many config
  // changes were rejected so far.
  void SetConfig(int64_t generation, std::string hash, uint64_t rejected) {
    config_generation_ = generation;
    config_hash_ = std::move(hash);
    config_reload_failures_ = rejected;
  }

  // Off where corral never sees the requests (workers that are any command).
  void SetRequestMetrics(bool on) { request_metrics_ = on; }
  // Proxy mode: the request metrics come from the proxy workers (in
  // `slots`), and each app process's load and the queue are shown too.
  void SetProxies(const pool::PoolView* proxies, region::SlotRange slots) {
    proxies_ = proxies;
    proxy_slots_ = slots;
    request_metrics_ = true;
  }
  // How the app processes' limits are set: adaptive (read from their
  // slots), or --app-concurrency.
  void SetConcurrency(bool adaptive, int app_concurrency) {
    adaptive_ = adaptive;
    app_concurrency_ = app_concurrency;
  }

  std::vector<prometheus::MetricFamily> Collect() const override;
  std::string Scrape() const;  // the text exposition

 private:
  // A C++ app's workers: their event loops' lag and what they shed.
  void CollectLagShedding(const std::vector<pool::WorkerView>& workers,
                          std::vector<prometheus::MetricFamily>& out) const;
  void CollectProxy(const std::vector<pool::WorkerView>& apps,
                    const std::vector<pool::WorkerView>& proxies,
                    std::vector<prometheus::MetricFamily>& out) const;

  std::string app_;
  std::string version_;
  const pool::PoolView& pool_;
  const region::SharedRegion& region_;
  RequestTotals retired_;
  int64_t config_generation_ = 0;
  std::string config_hash_;
  uint64_t config_reload_failures_ = 0;
  bool request_metrics_ = true;
  const pool::PoolView* proxies_ = nullptr;
  region::SlotRange proxy_slots_;
  bool adaptive_ = false;
  int app_concurrency_ = 0;
  // The queue waits (by class) and rejections of proxy workers that have
  // exited.
  std::array<std::array<uint64_t, region::kBuckets>, overload::kPriorities>
      retired_queue_wait_{};
  std::array<uint64_t, overload::kPriorities> retired_queue_wait_sum_ns_{};
  uint64_t retired_queue_rejected_ = 0;
  uint64_t retired_past_deadline_ = 0;
  std::array<std::array<uint64_t, overload::kShedReasons>,
             overload::kPriorities>
      retired_shed_{};
  std::array<uint64_t, overload::kPriorities> retired_admitted_{};
  std::array<uint64_t, overload::kPriorities> retired_lag_shed_{};
};

}  // namespace corral::metrics

#endif  // CORRAL_METRICS_COLLECTOR_H_
