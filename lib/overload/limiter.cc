#include "overload/limiter.h"

#include <algorithm>
#include <cmath>

namespace corral::overload {
namespace {

// Windows in a row well under minRTT before it is measured again.
constexpr int kFastWindows = 3;

}  // namespace

GradientLimiter::GradientLimiter(LimiterSettings settings, int64_t now_ns)
    : settings_(settings),
      limit_(settings.min_limit),
      window_started_ns_(now_ns) {
  settings_.min_limit = std::max(1, std::min(settings_.min_limit,
                                             settings_.max_limit));
  limit_ = settings_.min_limit;
  if (settings_.first_probe_ns == 0) {
    StartProbe();
  } else {
    next_probe_ns_ = now_ns + settings_.first_probe_ns;
  }
}

void GradientLimiter::Seed(int limit, int64_t min_rtt_ns) {
  if (probing_ || min_rtt_ns <= 0) return;
  limit_ = std::clamp(limit, settings_.min_limit, settings_.max_limit);
  min_rtt_ns_ = min_rtt_ns;
  slow_start_ = false;
  first_samples_.clear();
}

void GradientLimiter::StartProbe() {
  probing_ = true;
  fast_windows_ = 0;
  probe_settled_ns_.reset();
  samples_.clear();
  windows_at_min_ = 0;
}

void GradientLimiter::OnSample(int64_t started_ns, int64_t answered_ns) {
  // A probe measures only requests sent once the in-flight requests were
  // down to its limit: the ones before met the queue it waits out.
  if (probing_ && (!probe_settled_ns_ || started_ns < *probe_settled_ns_)) {
    return;
  }
  samples_.push_back(std::max<int64_t>(answered_ns - started_ns, 1));
}

int64_t GradientLimiter::Percentile(std::vector<int64_t>& samples) const {
  const size_t k = std::min(
      samples.size() - 1,
      static_cast<size_t>(settings_.percentile *
                          static_cast<double>(samples.size())));
  std::nth_element(samples.begin(), samples.begin() + static_cast<long>(k),
                   samples.end());
  return samples[k];
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
    const bool done =
        samples >= settings_.probe_samples ||
        (probe_settled_ns_ && samples >= settings_.min_samples &&
         now_ns - *probe_settled_ns_ >= settings_.window_ns);
    if (!done) return limit();
    min_rtt_ns_ = Percentile(samples_);
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
  const bool window_done =
      now_ns - window_started_ns_ >= settings_.window_ns ||
      (slow_start_ && samples >= limit_);
  if (!window_done || samples < settings_.min_samples) return limit();
  // The limit grows only as far as the requests have tested it (as TCP's
  // congestion window validation): an app offered 16 requests at a time
  // says nothing about 1,000.
  const int tested = static_cast<int>(
      std::min<int64_t>(std::max<int64_t>(limit_, 2 * window_in_flight_),
                        settings_.max_limit));
  window_in_flight_ = 0;
  if (min_rtt_ns_ == 0) {
    // Before the first probe: double each round trip until probe_samples
    // answers are in, then their median stands in for minRTT (a small
    // window's median alone is too noisy to steer by).
    first_samples_.insert(first_samples_.end(), samples_.begin(),
                          samples_.end());
    samples_.clear();
    window_started_ns_ = now_ns;
    if (static_cast<int>(first_samples_.size()) < settings_.probe_samples) {
      limit_ = std::min(limit_ * 2, tested);
      return limit();
    }
    min_rtt_ns_ = Percentile(first_samples_);
    first_samples_.clear();
    first_samples_.shrink_to_fit();
    return limit();
  }
  const int64_t window_rtt = Percentile(samples_);
  samples_.clear();
  window_started_ns_ = now_ns;
  const double sample = static_cast<double>(window_rtt);
  const double ideal =
      static_cast<double>(min_rtt_ns_) * (1.0 + settings_.buffer);
  if (slow_start_ && sample <= ideal) {
    limit_ = std::min(limit_ * 2, tested);
  } else {
    slow_start_ = false;
    const double gradient = std::clamp(ideal / sample, 0.5, 2.0);
    const double scaled = static_cast<double>(limit_) * gradient;
    limit_ = std::clamp(static_cast<int>(scaled + std::sqrt(scaled)),
                        settings_.min_limit, std::max(tested, limit_));
    limit_ = std::min(limit_, std::max(tested, settings_.min_limit));
  }
  windows_at_min_ = limit_ == settings_.min_limit ? windows_at_min_ + 1 : 0;
  // Windows well under minRTT: the app got faster, and the limit would let
  // a queue of the old minRTT's length form in it. Several in a row, not
  // one: a small window's median is noisy, and a minimum of noisy
  // medians is too low.
  fast_windows_ = sample * 2 <= ideal ? fast_windows_ + 1 : 0;
  if (windows_at_min_ >= settings_.windows_at_min ||
      fast_windows_ >= kFastWindows ||
      now_ns >= next_probe_ns_) {
    StartProbe();
  }
  return limit();
}

}  // namespace corral::overload
