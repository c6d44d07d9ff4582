// The master's /metrics: a prometheus-cpp Collectable that reads the shared
// region (never the workers themselves), the retired totals and the pool's
// counts at scrape time.
#ifndef CORRAL_METRICS_COLLECTOR_H_
#define CORRAL_METRICS_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

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

  std::vector<prometheus::MetricFamily> Collect() const override;
  std::string Scrape() const;  // the text exposition

 private:
  std::string app_;
  std::string version_;
  const pool::PoolView& pool_;
  const region::SharedRegion& region_;
  RequestTotals retired_;
  int64_t config_generation_ = 0;
  std::string config_hash_;
  uint64_t config_reload_failures_ = 0;
  bool request_metrics_ = true;
};

}  // namespace corral::metrics

#endif  // CORRAL_METRICS_COLLECTOR_H_
