#include "metrics/collector.h"

#include <prometheus/text_serializer.h>

#include <limits>

#include "metrics/process_stats.h"

namespace corral::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric Value(MetricType type, double v,
                   std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  return m;
}

// A family of one series.
MetricFamily One(std::string name, std::string help, MetricType type,
                 double v) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  f.metric.push_back(Value(type, v));
  return f;
}

// One series per label value, zero until counted, so rate() and increase()
// work from the first scrape. The values are the enum's name table.
template <typename Enum, size_t N, size_t K>
MetricFamily CounterByLabel(std::string name, std::string help,
                            const std::string& label,
                            const std::array<Enum, N>& values,
                            const std::array<uint64_t, K>& counts) {
  MetricFamily f =
      Family(std::move(name), std::move(help), MetricType::Counter);
  for (Enum v : values) {
    f.metric.push_back(
        Value(MetricType::Counter,
              static_cast<double>(counts[static_cast<size_t>(v)]),
              {{label, std::string(pool::Name(v))}}));
  }
  return f;
}

// Every value of an enum whose values run 0..N-1.
template <typename Enum, size_t N>
constexpr std::array<Enum, N> AllOf(const std::array<std::string_view, N>&) {
  std::array<Enum, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<Enum>(i);
  return out;
}

template <size_t N, size_t M>
ClientMetric Histogram(const std::array<double, N>& bounds,
                       const std::array<uint64_t, M>& buckets, double sum,
                       std::vector<ClientMetric::Label> labels) {
  static_assert(M == N + 1);
  ClientMetric m;
  m.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < M; ++i) {
    cumulative += buckets[i];
    ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < N ? bounds[i] : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back(b);
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = sum;
  return m;
}

}  // namespace

Collector::Collector(std::string app, std::string version,
                     const pool::PoolView& pool,
                     const region::SharedRegion& region)
    : app_(std::move(app)),
      version_(std::move(version)),
      pool_(pool),
      region_(region) {}

void Collector::RetireSlot(int slot) {
  const region::WorkerSlot& s = region_.slot(slot);
  RequestTotals::AddSlot(s, retired_.series());
  retired_past_deadline_ +=
      s.past_deadline_total.load(std::memory_order_relaxed);
  for (size_t c = 0; c < retired_lag_shed_.size(); ++c) {
    retired_lag_shed_[c] += s.lag_shed_total[c].load(std::memory_order_relaxed);
  }
  if (proxies_ != nullptr && proxy_slots_.Contains(slot)) {
    for (size_t c = 0; c < retired_queue_wait_.size(); ++c) {
      for (size_t i = 0; i < region::kBuckets; ++i) {
        retired_queue_wait_[c][i] +=
            s.queue_wait_buckets[c][i].load(std::memory_order_relaxed);
      }
      retired_queue_wait_sum_ns_[c] +=
          s.queue_wait_sum_ns[c].load(std::memory_order_relaxed);
    }
    retired_queue_rejected_ +=
        s.queue_rejected_total.load(std::memory_order_relaxed);
    for (size_t c = 0; c < retired_shed_.size(); ++c) {
      retired_admitted_[c] +=
          s.admitted_total[c].load(std::memory_order_relaxed);
      for (size_t r = 0; r < retired_shed_[c].size(); ++r) {
        retired_shed_[c][r] +=
            s.shed_total[c][r].load(std::memory_order_relaxed);
      }
    }
  }
}

std::vector<MetricFamily> Collector::Collect() const {
  std::vector<MetricFamily> out;
  const std::vector<pool::WorkerView> workers = pool_.Workers();

  // Requests: retired totals plus every live worker's slot (in proxy mode,
  // the proxy workers').
  const std::vector<pool::WorkerView> servers =
      proxies_ != nullptr ? proxies_->Workers() : workers;
  RequestTotals::Map series = retired_.series();
  auto active = Family("http_server_active_requests",
                       "Requests being served right now, summed over workers.",
                       MetricType::Gauge);
  auto per_worker =
      Family("corral_worker_active_requests",
             "Requests being served right now by each live worker.",
             MetricType::Gauge);
  int64_t in_flight = 0;
  for (const pool::WorkerView& w : servers) {
    const region::WorkerSlot& slot = region_.slot(w.slot);
    RequestTotals::AddSlot(slot, series);
    int64_t n = slot.in_flight.load(std::memory_order_relaxed);
    in_flight += n;
    per_worker.metric.push_back(Value(MetricType::Gauge, static_cast<double>(n),
                                      {{"slot", std::to_string(w.slot)},
                                       {"worker", std::to_string(w.index)}}));
  }
  auto open = Family("corral_worker_connections",
                     "Open client connections per live worker (refreshed "
                     "every 100 ms); shows how evenly workers share the load.",
                     MetricType::Gauge);
  for (const pool::WorkerView& w : servers) {
    open.metric.push_back(
        Value(MetricType::Gauge,
              static_cast<double>(region_.slot(w.slot).connections_open.load(
                  std::memory_order_relaxed)),
              {{"slot", std::to_string(w.slot)},
               {"worker", std::to_string(w.index)}}));
  }
  active.metric.push_back(
      Value(MetricType::Gauge, static_cast<double>(in_flight)));
  uint64_t past_deadline = retired_past_deadline_;
  for (const pool::WorkerView& w : servers) {
    past_deadline += region_.slot(w.slot).past_deadline_total.load(
        std::memory_order_relaxed);
  }
  if (request_metrics_) {
    out.push_back(std::move(open));
    out.push_back(std::move(active));
    out.push_back(std::move(per_worker));
    out.push_back(One("corral_requests_past_deadline_total",
                      "Requests answered 504, or cut, at --request-deadline.",
                      MetricType::Counter, static_cast<double>(past_deadline)));
  }

  // OpenTelemetry's HTTP semantic conventions as exported to Prometheus. No
  // separate request counter: it would repeat the histogram's _count.
  auto duration = Family("http_server_request_duration_seconds",
                         "Time from a request's first byte to its response, "
                         "by method, status code and route template.",
                         MetricType::Histogram);
  for (const auto& [labels, t] : series) {
    duration.metric.push_back(
        Histogram(region::kDurationBounds, t.buckets,
                  static_cast<double>(t.duration_sum_ns) / 1e9,
                  {{"http_request_method", labels.method},
                   {"http_response_status_code", std::to_string(labels.status)},
                   {"http_route", labels.route}}));
  }
  if (request_metrics_) out.push_back(std::move(duration));
  if (proxies_ != nullptr) CollectProxy(workers, servers, out);
  if (proxies_ == nullptr && request_metrics_) CollectLagShedding(workers, out);

  // Each worker process's CPU and memory.
  auto cpu = Family("corral_worker_cpu_seconds_total",
                    "CPU time of each live worker process, user and system.",
                    MetricType::Counter);
  auto rss =
      Family("corral_worker_resident_memory_bytes",
             "Resident memory of each live worker process.", MetricType::Gauge);
  for (const pool::WorkerView& w : workers) {
    auto stats = ReadProcessStats("/proc/" + std::to_string(w.pid), false);
    if (!stats) continue;
    std::vector<ClientMetric::Label> l = {{"slot", std::to_string(w.slot)},
                                          {"worker", std::to_string(w.index)}};
    cpu.metric.push_back(Value(MetricType::Counter, stats->cpu_seconds, l));
    rss.metric.push_back(Value(MetricType::Gauge, stats->resident_bytes, l));
  }
  out.push_back(std::move(cpu));
  out.push_back(std::move(rss));

  // Worker lifecycle.
  auto by_state =
      Family("corral_workers", "Worker processes by state.", MetricType::Gauge);
  std::array<int, pool::kWorkerPhaseNames.size()> states{};
  for (const pool::WorkerView& w : workers) {
    ++states[static_cast<size_t>(w.phase)];
  }
  for (size_t i = 0; i < states.size(); ++i) {
    by_state.metric.push_back(
        Value(MetricType::Gauge, states[i],
              {{"state", std::string(pool::kWorkerPhaseNames[i])}}));
  }
  out.push_back(std::move(by_state));
  auto wanted = Family("corral_workers_wanted",
                       "Workers the pool keeps serving (--workers, or the "
                       "pod's CPUs).",
                       MetricType::Gauge);
  wanted.metric.push_back(
      Value(MetricType::Gauge, static_cast<double>(pool_.workers_wanted())));
  out.push_back(std::move(wanted));

  const pool::PoolCounts& counts = pool_.counts();
  out.push_back(CounterByLabel(
      "corral_worker_restarts_total",
      "Workers replaced, by reason: crash, timeout (hung), start_failed, "
      "roll, oom (the kernel's OOM killer), and recycles: memory (the "
      "memory guard), worker_memory, max_requests, max_age.",
      "reason", pool::kRestartReasons, counts.restarts));
  out.push_back(CounterByLabel(
      "corral_rollouts_total", "Rolling restarts of the workers, by result.",
      "result", AllOf<pool::RollResult>(pool::kRollResultNames),
      counts.rollouts));

  auto roll_seconds =
      Family("corral_rollout_duration_seconds",
             "How long finished rolling restarts took.", MetricType::Histogram);
  roll_seconds.metric.push_back(Histogram(pool::kRolloutBounds,
                                          counts.rollout_buckets,
                                          counts.rollout_seconds_sum, {}));
  out.push_back(std::move(roll_seconds));

  auto draining =
      Family("corral_draining", "1 while the pod drains after SIGTERM, else 0.",
             MetricType::Gauge);
  draining.metric.push_back(Value(
      MetricType::Gauge, pool_.state() == pool::PoolState::kDrainDelay ||
                                 pool_.state() == pool::PoolState::kDraining
                             ? 1
                             : 0));
  out.push_back(std::move(draining));

  auto generation =
      Family("corral_config_generation",
             "Config generation the workers are rolled to.", MetricType::Gauge);
  generation.metric.push_back(
      Value(MetricType::Gauge, static_cast<double>(pool_.generation())));
  out.push_back(std::move(generation));

  auto config_info = Family("corral_config_info",
                            "The live config's generation and content hash.",
                            MetricType::Gauge);
  config_info.metric.push_back(
      Value(MetricType::Gauge, 1,
            {{"generation", std::to_string(config_generation_)},
             {"hash", config_hash_.empty() ? "none" : config_hash_}}));
  out.push_back(std::move(config_info));

  out.push_back(One("corral_config_reload_failures_total",
                    "Config changes rejected (unreadable or invalid); the "
                    "last good config stays.",
                    MetricType::Counter,
                    static_cast<double>(config_reload_failures_)));

  auto build = Family("corral_build_info", "The app and corral version.",
                      MetricType::Gauge);
  build.metric.push_back(Value(MetricType::Gauge, 1,
                               {{"app", app_},
                                {"corral_version", CORRAL_VERSION},
                                {"version", version_}}));
  out.push_back(std::move(build));

  if (auto p = ReadProcessStats()) {
    auto add = [&](const char* name, const char* help, MetricType type,
                   double v) { out.push_back(One(name, help, type, v)); };
    add("process_cpu_seconds_total",
        "Master CPU time, user and system, in seconds.", MetricType::Counter,
        p->cpu_seconds);
    add("process_resident_memory_bytes", "Master resident memory in bytes.",
        MetricType::Gauge, p->resident_bytes);
    add("process_virtual_memory_bytes", "Master virtual memory in bytes.",
        MetricType::Gauge, p->virtual_bytes);
    add("process_open_fds", "Master open file descriptors.", MetricType::Gauge,
        p->open_fds);
    add("process_max_fds", "Master open file descriptor limit.",
        MetricType::Gauge, p->max_fds);
    add("process_start_time_seconds",
        "Master start time since the unix epoch, in seconds.",
        MetricType::Gauge, p->start_time_seconds);
  }
  return out;
}

void Collector::CollectProxy(const std::vector<pool::WorkerView>& apps,
                             const std::vector<pool::WorkerView>& proxies,
                             std::vector<MetricFamily>& out) const {
  auto app_active =
      Family("corral_app_active_requests",
             "Requests in flight to each app process, over every proxy worker: "
             "what least-busy routing compares.",
             MetricType::Gauge);
  for (const pool::WorkerView& w : apps) {
    app_active.metric.push_back(
        Value(MetricType::Gauge,
              static_cast<double>(
                  region::UpstreamInFlight(region_, proxy_slots_, w.slot)),
              {{"slot", std::to_string(w.slot)},
               {"worker", std::to_string(w.index)}}));
  }
  out.push_back(std::move(app_active));

  auto app_limit =
      Family("corral_app_concurrency_limit",
             "Each app process's limit on requests in flight: adaptive "
             "(--adaptive-concurrency), else --app-concurrency (0 = none).",
             MetricType::Gauge);
  for (const pool::WorkerView& w : apps) {
    const int limit = adaptive_ ? region_.slot(w.slot).concurrency_limit.load(
                                      std::memory_order_relaxed)
                                : app_concurrency_;
    app_limit.metric.push_back(Value(MetricType::Gauge,
                                     static_cast<double>(limit),
                                     {{"slot", std::to_string(w.slot)},
                                      {"worker", std::to_string(w.index)}}));
  }
  out.push_back(std::move(app_limit));

  // No series for a process not measured yet (adaptive concurrency off, or
  // before its first probe): /status shows null there.
  auto app_min_rtt =
      Family("corral_app_min_rtt_seconds",
             "Each app process's latency with no queue, as the adaptive "
             "limiter's last probe measured it, for the fastest class of "
             "request (--adaptive-concurrency).",
             MetricType::Gauge);
  for (const pool::WorkerView& w : apps) {
    const int64_t min_rtt =
        region_.slot(w.slot).min_rtt_ns.load(std::memory_order_relaxed);
    if (min_rtt == 0) continue;
    app_min_rtt.metric.push_back(Value(MetricType::Gauge,
                                       static_cast<double>(min_rtt) / 1e9,
                                       {{"slot", std::to_string(w.slot)},
                                        {"worker", std::to_string(w.index)}}));
  }
  out.push_back(std::move(app_min_rtt));

  int64_t queued = 0;
  uint64_t rejected = retired_queue_rejected_;
  auto wait_sum_ns = retired_queue_wait_sum_ns_;
  auto wait = retired_queue_wait_;
  auto shed = retired_shed_;
  auto admitted = retired_admitted_;
  for (const pool::WorkerView& p : proxies) {
    const region::WorkerSlot& s = region_.slot(p.slot);
    for (size_t c = 0; c < shed.size(); ++c) {
      admitted[c] += s.admitted_total[c].load(std::memory_order_relaxed);
      for (size_t r = 0; r < shed[c].size(); ++r) {
        shed[c][r] += s.shed_total[c][r].load(std::memory_order_relaxed);
      }
      wait_sum_ns[c] += s.queue_wait_sum_ns[c].load(std::memory_order_relaxed);
      for (size_t i = 0; i < region::kBuckets; ++i) {
        wait[c][i] +=
            s.queue_wait_buckets[c][i].load(std::memory_order_relaxed);
      }
    }
    queued += s.queued.load(std::memory_order_relaxed);
    rejected += s.queue_rejected_total.load(std::memory_order_relaxed);
  }
  out.push_back(One("corral_proxy_queue_length",
                    "Requests waiting for a free app process (past "
                    "--app-concurrency), over every proxy worker.",
                    MetricType::Gauge, static_cast<double>(queued)));
  out.push_back(One("corral_proxy_rejected_total",
                    "Requests answered 503 because the queue was full or "
                    "they waited past --queue-timeout.",
                    MetricType::Counter, static_cast<double>(rejected)));
  // One series per class, empty until a request of it waits, as the
  // shed and admitted counters.
  auto waited = Family("corral_proxy_queue_wait_seconds",
                       "How long queued requests waited for an app process "
                       "(served or shed), by --priority class.",
                       MetricType::Histogram);
  for (size_t c = 0; c < wait.size(); ++c) {
    waited.metric.push_back(
        Histogram(region::kDurationBounds, wait[c],
                  static_cast<double>(wait_sum_ns[c]) / 1e9,
                  {{"class", std::string(overload::kPriorityNames[c])}}));
  }
  out.push_back(std::move(waited));

  auto shed_family = Family(
      "corral_proxy_shed_total",
      "Requests answered 503 instead of served, by --priority class and "
      "reason (queue_full, displaced, queue_delay, queue_timeout, tunnels).",
      MetricType::Counter);
  auto admitted_family =
      Family("corral_proxy_admitted_total",
             "Requests sent to an app process, by --priority class.",
             MetricType::Counter);
  for (size_t c = 0; c < shed.size(); ++c) {
    const std::string cls(overload::kPriorityNames[c]);
    admitted_family.metric.push_back(Value(MetricType::Counter,
                                           static_cast<double>(admitted[c]),
                                           {{"class", cls}}));
    for (size_t r = 0; r < shed[c].size(); ++r) {
      shed_family.metric.push_back(
          Value(MetricType::Counter, static_cast<double>(shed[c][r]),
                {{"class", cls},
                 {"reason", std::string(overload::kShedReasonNames[r])}}));
    }
  }
  out.push_back(std::move(shed_family));
  out.push_back(std::move(admitted_family));
}

void Collector::CollectLagShedding(const std::vector<pool::WorkerView>& workers,
                                   std::vector<MetricFamily>& out) const {
  auto lag = Family("corral_worker_loop_lag_seconds",
                    "How late each live worker's own work (its thread's "
                    "CPU time) made a timer due every 10 ms, at its last "
                    "run (--shed-on-lag).",
                    MetricType::Gauge);
  std::array<uint64_t, overload::kPriorities> shed = retired_lag_shed_;
  for (const pool::WorkerView& w : workers) {
    const region::WorkerSlot& s = region_.slot(w.slot);
    lag.metric.push_back(Value(
        MetricType::Gauge,
        static_cast<double>(s.loop_lag_ns.load(std::memory_order_relaxed)) /
            1e9,
        {{"slot", std::to_string(w.slot)},
         {"worker", std::to_string(w.index)}}));
    for (size_t c = 0; c < shed.size(); ++c) {
      shed[c] += s.lag_shed_total[c].load(std::memory_order_relaxed);
    }
  }
  out.push_back(std::move(lag));
  auto shed_family =
      Family("corral_shed_total",
             "Requests a C++ app's workers answered 503 instead of serving, "
             "by --priority class and reason (loop_lag: the event loop was "
             "behind).",
             MetricType::Counter);
  for (size_t c = 0; c < shed.size(); ++c) {
    shed_family.metric.push_back(
        Value(MetricType::Counter, static_cast<double>(shed[c]),
              {{"class", std::string(overload::kPriorityNames[c])},
               {"reason", "loop_lag"}}));
  }
  out.push_back(std::move(shed_family));
}

std::string Collector::Scrape() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace corral::metrics
