#include "overload/limiter.h"

#include <algorithm>
#include <cmath>

namespace corral::overload {
namespace {

// Windows in a row well under minRTT before it is measured again.
constexpr int kFastWindows = 3;
// Samples of a class a probe needs to measure its minRTT again (one known
// already stands until then): a probe behind a standing queue takes the
// highest class first, and a handful of the others says little.
constexpr size_t kClassSamples = 5;

}  // namespace

GradientLimiter::GradientLimiter(LimiterSettings settings, int64_t now_ns)
    : settings_(settings),
      limit_(settings.min_limit),
      window_started_ns_(now_ns) {
  settings_.min_limit =
      std::max(1, std::min(settings_.min_limit, settings_.max_limit));
  limit_ = settings_.min_limit;
  if (settings_.first_probe_ns == 0) {
    StartProbe();
  } else {
    next_probe_ns_ = now_ns + settings_.first_probe_ns;
  }
}

void GradientLimiter::Seed(int limit, const MinRtts& min_rtts) {
  if (probing_ || *std::max_element(min_rtts.begin(), min_rtts.end()) <= 0) {
    return;
  }
  limit_ = std::clamp(limit, settings_.min_limit, settings_.max_limit);
  min_rtts_ = min_rtts;
  slow_start_ = false;
  first_samples_.clear();
}

int64_t GradientLimiter::min_rtt_ns() const {
  int64_t smallest = 0;
  for (int64_t m : min_rtts_) {
    if (m > 0 && (smallest == 0 || m < smallest)) smallest = m;
  }
  return smallest;
}

double GradientLimiter::MinRtt(int priority) const {
  const int64_t own = min_rtts_[static_cast<size_t>(priority)];
  return static_cast<double>(own > 0 ? own : min_rtt_ns());
}

void GradientLimiter::StartProbe() {
  probing_ = true;
  fast_windows_ = 0;
  probe_settled_ns_.reset();
  samples_.clear();
  windows_at_min_ = 0;
}

void GradientLimiter::OnSample(int64_t started_ns, int64_t answered_ns,
                               Priority priority) {
  // A probe measures only requests sent once the in-flight requests were
  // down to its limit: the ones before met the queue it waits out.
  if (probing_ && (!probe_settled_ns_ || started_ns < *probe_settled_ns_)) {
    return;
  }
  samples_.push_back({std::max<int64_t>(answered_ns - started_ns, 1),
                      static_cast<int>(priority)});
}

double GradientLimiter::Percentile(std::vector<double>& values) const {
  const size_t k =
      std::min(values.size() - 1,
               static_cast<size_t>(settings_.percentile *
                                   static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(k),
                   values.end());
  return values[k];
}

void GradientLimiter::MeasureMinRtts(const std::vector<Sample>& samples) {
  std::array<std::vector<double>, kPriorities> by_class;
  for (const Sample& s : samples) {
    by_class[static_cast<size_t>(s.priority)].push_back(
        static_cast<double>(s.latency_ns));
  }
  for (size_t c = 0; c < by_class.size(); ++c) {
    if (by_class[c].empty() ||
        (by_class[c].size() < kClassSamples && min_rtts_[c] > 0)) {
      continue;
    }
    min_rtts_[c] = static_cast<int64_t>(Percentile(by_class[c]));
  }
}

int GradientLimiter::Update(int64_t now_ns, int64_t in_flight) {
  if (probing_ && !probe_settled_ns_ && in_flight <= settings_.min_limit) {
    probe_settled_ns_ = now_ns;
  }
  window_in_flight_ = std::max(window_in_flight_, in_flight);
  if (probing_) {
    // probe_samples, or a window's worth when the app is slow: a probe
    // must not hold the limit down long, least of all at start.
    const int samples = static_cast<int>(samples_.size());
    const bool done = samples >= settings_.probe_samples ||
                      (probe_settled_ns_ && samples >= settings_.min_samples &&
                       now_ns - *probe_settled_ns_ >= settings_.window_ns);
    if (!done) return limit();
    MeasureMinRtts(samples_);
    probing_ = false;
    probed_ = true;
    // Slow start lasts until the first queueing is seen, once: after that,
    // doubling from the minimum would overshoot an app that got slower.
    slow_start_ = slow_start_ && limit_ == settings_.min_limit;
    next_probe_ns_ = now_ns + settings_.probe_every_ns;
    samples_.clear();
    window_in_flight_ = 0;
    window_started_ns_ = now_ns;
    return limit();
  }
  const int samples = static_cast<int>(samples_.size());
  // In slow start a round trip's answers (one per place) make a window.
  const bool window_done = now_ns - window_started_ns_ >= settings_.window_ns ||
                           (slow_start_ && samples >= limit_);
  if (!window_done || samples < settings_.min_samples) return limit();
  // The limit grows only as far as the requests have tested it (as TCP's
  // congestion window validation): an app offered 16 requests at a time
  // says nothing about 1,000. Past slow start it also comes down to what
  // they carried plus the headroom: a limit left far above the requests
  // in flight would let the next surge into the app all at once. Half as
  // many again: a surge still finds room to grow by half a window.
  const int tested = static_cast<int>(std::min<int64_t>(
      std::max<int64_t>(limit_, 2 * window_in_flight_), settings_.max_limit));
  const double carrying = static_cast<double>(window_in_flight_);
  const int carried = std::max(
      settings_.min_limit,
      static_cast<int>(carrying + std::max(std::sqrt(carrying), carrying / 2)));
  window_in_flight_ = 0;
  if (min_rtt_ns() == 0) {
    // Before the first probe: double each round trip until probe_samples
    // answers are in, then their medians stand in for minRTT (a small
    // window's median alone is too noisy to steer by).
    first_samples_.insert(first_samples_.end(), samples_.begin(),
                          samples_.end());
    samples_.clear();
    window_started_ns_ = now_ns;
    if (static_cast<int>(first_samples_.size()) < settings_.probe_samples) {
      limit_ = std::min(limit_ * 2, tested);
      return limit();
    }
    MeasureMinRtts(first_samples_);
    first_samples_.clear();
    first_samples_.shrink_to_fit();
    return limit();
  }
  // Each answer against what its class takes with no queue: how far past
  // the latency that counts as no queueing, and how far under minRTT.
  std::vector<double> over_ideal;
  std::vector<double> over_min_rtt;
  over_ideal.reserve(samples_.size());
  over_min_rtt.reserve(samples_.size());
  for (const Sample& s : samples_) {
    const double min_rtt = MinRtt(s.priority);
    const double latency = static_cast<double>(s.latency_ns);
    over_ideal.push_back(latency /
                         (min_rtt * (1.0 + settings_.buffer) +
                          static_cast<double>(settings_.allowance_ns)));
    over_min_rtt.push_back(latency / min_rtt);
  }
  samples_.clear();
  window_started_ns_ = now_ns;
  const double queued = Percentile(over_ideal);
  if (slow_start_ && queued <= 1.0) {
    limit_ = std::min(limit_ * 2, tested);
  } else {
    slow_start_ = false;
    const double gradient = std::clamp(1.0 / queued, 0.5, 2.0);
    const double scaled = static_cast<double>(limit_) * gradient;
    double next = scaled + std::sqrt(scaled);
    // Down only halfway each window: on CPUs the app shares, one window's
    // median jumps with the scheduler, and a limit that follows every jump
    // leaves the app idle after it (seen: 3 to 486 and back within
    // seconds at twice its capacity).
    if (next < limit_) next = (next + limit_) / 2;
    limit_ = std::clamp(static_cast<int>(next), settings_.min_limit,
                        std::max(tested, limit_));
    limit_ = std::min({limit_, std::max(tested, settings_.min_limit),
                       std::min(carried, settings_.max_limit)});
  }
  windows_at_min_ = limit_ == settings_.min_limit ? windows_at_min_ + 1 : 0;
  // Windows well under minRTT: the app got faster, and the limit would let
  // a queue of the old minRTT's length form in it. Several in a row, not
  // one: a small window's median is noisy, and a minimum of noisy
  // medians is too low.
  fast_windows_ = Percentile(over_min_rtt) * 2 <= 1.0 + settings_.buffer
                      ? fast_windows_ + 1
                      : 0;
  if (windows_at_min_ >= settings_.windows_at_min ||
      fast_windows_ >= kFastWindows || now_ns >= next_probe_ns_) {
    StartProbe();
  }
  return limit();
}

}  // namespace corral::overload
