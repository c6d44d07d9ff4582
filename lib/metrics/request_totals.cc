#include "metrics/request_totals.h"

#include <cstring>

namespace corral::metrics {

void SeriesTotals::Add(const SeriesTotals& o) {
  count += o.count;
  duration_sum_ns += o.duration_sum_ns;
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += o.buckets[i];
}

void RequestTotals::AddSlot(const region::WorkerSlot& slot, Map& into) {
  int routes = slot.route_count.load(std::memory_order_acquire);
  for (const region::Series& s : slot.series) {
    uint64_t key = s.key.load(std::memory_order_acquire);
    if (key == 0) continue;
    int method = 0, status = 0, route = 0;
    region::DecodeKey(key, &method, &status, &route);
    SeriesLabels labels;
    labels.method = std::string(region::kMethods[static_cast<size_t>(method) %
                                                 region::kMethods.size()]);
    labels.status = status;
    if (route < routes) {
      labels.route.assign(slot.routes[route],
                          strnlen(slot.routes[route], region::kRouteNameBytes));
    } else {
      labels.route = "unmatched";
    }
    SeriesTotals t;
    t.duration_sum_ns = s.duration_sum_ns.load(std::memory_order_relaxed);
    uint64_t bucket_total = 0;
    for (size_t i = 0; i < t.buckets.size(); ++i) {
      t.buckets[i] = s.buckets[i].load(std::memory_order_relaxed);
      bucket_total += t.buckets[i];
    }
    // The count is the buckets' sum, so a scrape racing the worker's update
    // never shows a histogram whose +Inf bucket disagrees with its count.
    t.count = bucket_total;
    into[labels].Add(t);
  }
}

void RequestTotals::Merge(const Map& other) {
  for (const auto& [labels, totals] : other) series_[labels].Add(totals);
}

}  // namespace corral::metrics
