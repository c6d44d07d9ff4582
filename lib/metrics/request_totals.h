// Request counters and duration histograms summed over worker slots. Pure
// logic: the collector feeds it live slots at scrape time, and the slots of
// retired workers once, when they exit, so every counter stays monotonic.
#ifndef CORRAL_METRICS_REQUEST_TOTALS_H_
#define CORRAL_METRICS_REQUEST_TOTALS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "region/shared_region.h"

namespace corral::metrics {

struct SeriesLabels {
  std::string method;
  int status = 0;
  std::string route;
  bool operator<(const SeriesLabels& o) const {
    return std::tie(method, status, route) <
           std::tie(o.method, o.status, o.route);
  }
};

struct SeriesTotals {
  uint64_t count = 0;
  uint64_t duration_sum_ns = 0;
  std::array<uint64_t, region::kBuckets> buckets{};  // not cumulative
  void Add(const SeriesTotals& o);
};

class RequestTotals {
 public:
  using Map = std::map<SeriesLabels, SeriesTotals>;

  // Adds every published series of `slot` to `into`.
  static void AddSlot(const region::WorkerSlot& slot, Map& into);

  const Map& series() const { return series_; }
  Map& series() { return series_; }
  void Merge(const Map& other);

 private:
  Map series_;
};

}  // namespace corral::metrics

#endif  // CORRAL_METRICS_REQUEST_TOTALS_H_
