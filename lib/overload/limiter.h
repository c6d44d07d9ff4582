// Adaptive concurrency for one app process: from the latencies of its
// completed requests, the most requests it may have in flight before they
// queue inside it. A gradient controller after Envoy's adaptive concurrency
// filter (docs/proxy.md says why this one): the latency of a window of
// requests against the latency measured at low concurrency (minRTT) scales
// the limit down when requests queue in the app and up, by a headroom of
// sqrt(limit), when they do not. minRTT is measured by pinning the limit to
// its minimum for a few dozen requests, at start, periodically, and when the
// limit has sat at its minimum for a while (the app got slower for good),
// or when windows run well under minRTT (the app got faster).
// Each class of request (overload/priority.h) has a minRTT of its own, and a
// window's latency may pass it by an absolute allowance: a page and a
// checkout waiting on its payment differ a hundredfold, and an event loop at
// its busiest makes every request wait a little (docs/proxy.md measured
// both).
// At start the limit doubles each round trip, as TCP's slow start, until a
// window shows the first queueing: a pod's first second should not be
// spent shedding. It grows only as far as requests have tested it.
//
// Pure: time comes in as arguments (CLOCK_MONOTONIC nanoseconds), so unit
// tests drive it with a fake clock, and a C++ worker can use it as well as a
// proxy worker.
#ifndef CORRAL_OVERLOAD_LIMITER_H_
#define CORRAL_OVERLOAD_LIMITER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "overload/priority.h"

namespace corral::overload {

struct LimiterSettings {
  int min_limit = 3;
  int max_limit = 1000;
  // How often the limit moves, at most (a window needs min_samples too).
  int64_t window_ns = 100'000'000;
  int min_samples = 5;
  // The latency of a window, and of the minRTT probe: this percentile of
  // its samples. The same one for both, and the median, so a mix of cheap
  // and dear requests compares like with like even in a small sample: the
  // p90 of a few answers is a checkout or not by chance.
  double percentile = 0.5;
  // Latency above minRTT that counts as no queueing: minRTT x (1 + buffer)
  // + allowance. The buffer scales with the request; the allowance is the
  // wait any request may see at the app's busiest: without it a page
  // served in half a millisecond looks queued by one more millisecond, and
  // the limit falls below what the app serves (docs/proxy.md).
  double buffer = 0.25;
  int64_t allowance_ns = 5'000'000;
  // Requests the minRTT probe takes, at the minimum limit (or fewer, at
  // least min_samples, when a window passes first).
  int probe_samples = 50;
  // The first probe, this long after start (0: at once). Until then the
  // limit doubles from the minimum each round trip until probe_samples
  // answers are in, and their median stands in for minRTT: a pod's first
  // requests meet an app still warming up, too slow for a probe to
  // measure, and a burst at start must not wait for one.
  int64_t first_probe_ns = 2'000'000'000;
  // A new probe this long after the last one...
  int64_t probe_every_ns = 30'000'000'000;
  // ...or once the limit has sat at its minimum this many windows.
  int windows_at_min = 5;
};

class GradientLimiter {
 public:
  using MinRtts = std::array<int64_t, kPriorities>;  // by class; 0: unknown

  GradientLimiter(LimiterSettings settings, int64_t now_ns);

  // Starts from what a sibling learnt (another process of the same app,
  // say after a roll): its limit and minRTTs, no slow start. The first
  // probe still comes when due.
  void Seed(int limit, const MinRtts& min_rtts);

  // A request of class `priority` sent at `started_ns` was answered at
  // `answered_ns`.
  void OnSample(int64_t started_ns, int64_t answered_ns,
                Priority priority = Priority::kNormal);
  // Moves the limit when a window is complete; returns the limit.
  // `in_flight`: the app process's requests in flight now, from every
  // sender; a probe measures only requests sent once they are down to its
  // limit (those sent before met the queue it waits out).
  int Update(int64_t now_ns, int64_t in_flight);

  int limit() const { return probing_ ? settings_.min_limit : limit_; }
  bool probing() const { return probing_; }
  // The smallest class's minRTT: 0 until the first answers are in.
  int64_t min_rtt_ns() const;
  const MinRtts& min_rtts() const { return min_rtts_; }
  // Whether a probe has measured minRTT (before, it is an estimate).
  bool probed() const { return probed_; }

 private:
  struct Sample {
    int64_t latency_ns;
    int priority;
  };

  void StartProbe();
  // Each class's minRTT from samples at low concurrency: the median of its
  // samples, where it has a few (or none was known).
  void MeasureMinRtts(const std::vector<Sample>& samples);
  // A class's minRTT, or the smallest known while it has none.
  double MinRtt(int priority) const;
  double Percentile(std::vector<double>& values) const;

  LimiterSettings settings_;
  int limit_;
  bool probing_ = false;
  // When a probe's in-flight requests came down to its limit; until then
  // (nullopt) it takes no samples.
  std::optional<int64_t> probe_settled_ns_;
  int64_t next_probe_ns_ = 0;
  MinRtts min_rtts_{};
  int64_t window_started_ns_;
  int windows_at_min_ = 0;
  int fast_windows_ = 0;
  bool probed_ = false;
  int64_t window_in_flight_ = 0;  // the most seen in this window
  bool slow_start_ = true;
  std::vector<Sample> samples_;
  std::vector<Sample> first_samples_;  // before the first minRTT
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_LIMITER_H_
