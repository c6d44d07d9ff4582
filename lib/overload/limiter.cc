#include "overload/limiter.h"

#include <algorithm>
#include <cmath>

namespace corral::overload {

GradientLimiter::GradientLimiter(LimiterSettings settings, int64_t now_ns)
    : settings_(settings),
      limit_(settings.min_limit),
      window_started_ns_(now_ns) {
  settings_.min_limit = std::max(1, std::min(settings_.min_limit,
                                             settings_.max_limit));
  limit_ = settings_.min_limit;
  StartProbe();
}

void GradientLimiter::StartProbe() {
  probing_ = true;
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
  if (probing_) {
    if (static_cast<int>(samples_.size()) < settings_.probe_samples) {
      return limit();
    }
    min_rtt_ns_ = Percentile(samples_);
    probing_ = false;
    next_probe_ns_ = now_ns + settings_.probe_every_ns;
    samples_.clear();
    window_started_ns_ = now_ns;
    return limit();
  }
  if (now_ns - window_started_ns_ < settings_.window_ns ||
      static_cast<int>(samples_.size()) < settings_.min_samples) {
    return limit();
  }
  const int64_t window_rtt = Percentile(samples_);
  samples_.clear();
  window_started_ns_ = now_ns;
  // No load gives a latency lower than the minRTT: the app got faster,
  // and the minRTT follows at once rather than at the next probe (else
  // the limit would let a queue of the old minRTT's length form).
  min_rtt_ns_ = std::min(min_rtt_ns_, window_rtt);
  const double sample = static_cast<double>(window_rtt);
  const double ideal =
      static_cast<double>(min_rtt_ns_) * (1.0 + settings_.buffer);
  const double gradient = std::clamp(ideal / sample, 0.5, 2.0);
  const double scaled = static_cast<double>(limit_) * gradient;
  limit_ = std::clamp(static_cast<int>(scaled + std::sqrt(scaled)),
                      settings_.min_limit, settings_.max_limit);
  windows_at_min_ = limit_ == settings_.min_limit ? windows_at_min_ + 1 : 0;
  if (windows_at_min_ >= settings_.windows_at_min ||
      now_ns >= next_probe_ns_) {
    StartProbe();
  }
  return limit();
}

}  // namespace corral::overload
