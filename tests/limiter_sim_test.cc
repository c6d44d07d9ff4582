// The limiter in front of a simulated app process, on a fake clock: an
// event loop serving a mix of pages (CPU only) and checkouts (a little CPU,
// then a wait on their payment), on a CPU the scheduler sometimes takes
// away for a few milliseconds, offered more requests than it can serve.
// What the limiter must give: the app kept busy (what it serves with no
// limit at all, measured in the same run, is the reference) while the
// requests in it wait only a little.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "overload/limiter.h"

namespace corral::overload {
namespace {

constexpr int64_t kUs = 1'000;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kTick = 50 * kUs;

struct Mix {
  double checkouts = 0.25;           // of the requests offered
  int64_t page_cpu = 200 * kUs;      // a page's CPU
  int64_t checkout_cpu = 100 * kUs;  // before and after its payment each
  int64_t payment = 50 * kMs;        // a checkout's wait, no CPU
  double offered_per_s = 10'000;     // about twice what the CPU serves
  // The scheduler: a pause of up to max_pause, on average every
  // pause_every (other processes on the same CPUs).
  int64_t pause_every = 20 * kMs;
  int64_t max_pause = 8 * kMs;
  // The proxy's own event loop, on the same CPUs: while it is paused it
  // neither sends nor sees answers, which it then takes as late (the hard
  // case: over TCP the kernel's receive time says when they came,
  // proxy/stamped_read.h).
  int64_t proxy_pause_every = 20 * kMs;
  int64_t proxy_max_pause = 8 * kMs;
};

struct Outcome {
  int64_t served = 0;       // answers after the warm-up
  int64_t page_p99_ns = 0;  // in the app, after the warm-up
  int64_t most_in_flight = 0;
};

// One run of `seconds`: the proxy admits from its queue (checkouts first)
// while the app has fewer than the limit in flight; requests that waited
// in the proxy's queue past 100 ms are shed (as the delay target would).
// `limiter` null: no limit.
Outcome Simulate(const Mix& mix, GradientLimiter* limiter, int seconds,
                 int64_t start_ns) {
  struct Request {
    bool checkout;
    int64_t arrived;
    int64_t sent = 0;
    int64_t cpu_left = 0;
    int phase = 0;  // 0: before the payment, 1: after
  };
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::deque<Request> queued[2];  // [0] pages, [1] checkouts
  std::deque<Request> cpu;        // the event loop's turn
  std::vector<Request> paying;    // waiting on the payment
  std::vector<int64_t> page_latencies;
  Outcome out;
  int64_t in_flight = 0;
  int64_t paused_until = 0;
  int64_t proxy_paused_until = 0;
  std::vector<Request> answered_unseen;  // while the proxy was paused
  const int64_t warm_up = start_ns + 5'000 * kMs;
  const int64_t end = start_ns + seconds * 1'000 * kMs;
  auto cpu_of = [&](const Request& r) {
    return r.checkout ? mix.checkout_cpu : mix.page_cpu;
  };
  for (int64_t now = start_ns; now < end; now += kTick) {
    // Arrivals this tick.
    const double expected =
        mix.offered_per_s * static_cast<double>(kTick) / 1e9;
    for (double a = expected; a > 0; a -= 1.0) {
      if (unit(rng) < std::min(a, 1.0)) {
        const bool checkout = unit(rng) < mix.checkouts;
        queued[checkout ? 1 : 0].push_back({checkout, now});
      }
    }
    if (now >= proxy_paused_until &&
        unit(rng) < static_cast<double>(kTick) /
                        static_cast<double>(mix.proxy_pause_every)) {
      proxy_paused_until =
          now + static_cast<int64_t>(unit(rng) *
                                     static_cast<double>(mix.proxy_max_pause));
    }
    const bool proxy_runs = now >= proxy_paused_until;
    // Answers the proxy sees now.
    if (proxy_runs) {
      for (const Request& done : answered_unseen) {
        --in_flight;
        if (limiter) {
          limiter->OnSample(
              done.sent, now,
              done.checkout ? Priority::kHigh : Priority::kNormal);
        }
        if (now >= warm_up) {
          ++out.served;
          if (!done.checkout) page_latencies.push_back(now - done.sent);
        }
      }
      answered_unseen.clear();
    }
    // The proxy's queue: shed what waited too long, admit in class order.
    for (auto& q : queued) {
      while (!q.empty() && now - q.front().arrived > 100 * kMs) q.pop_front();
    }
    const int limit = limiter ? limiter->limit() : 1 << 30;
    for (int c = 1; c >= 0 && proxy_runs; --c) {
      while (!queued[c].empty() && in_flight < limit) {
        Request r = queued[c].front();
        queued[c].pop_front();
        r.sent = now;
        r.cpu_left = cpu_of(r);
        cpu.push_back(r);
        ++in_flight;
      }
    }
    out.most_in_flight = std::max(out.most_in_flight, in_flight);
    // Payments that are done queue for the CPU again.
    for (auto it = paying.begin(); it != paying.end();) {
      if (it->cpu_left <= now) {
        Request r = *it;
        r.phase = 1;
        r.cpu_left = mix.checkout_cpu;
        cpu.push_back(r);
        it = paying.erase(it);
      } else {
        ++it;
      }
    }
    // The CPU, unless the scheduler took it.
    if (now >= paused_until &&
        unit(rng) <
            static_cast<double>(kTick) / static_cast<double>(mix.pause_every)) {
      paused_until = now + static_cast<int64_t>(
                               unit(rng) * static_cast<double>(mix.max_pause));
    }
    int64_t budget = now >= paused_until ? kTick : 0;
    while (budget > 0 && !cpu.empty()) {
      Request& r = cpu.front();
      const int64_t used = std::min(budget, r.cpu_left);
      r.cpu_left -= used;
      budget -= used;
      if (r.cpu_left > 0) break;
      Request done = r;
      cpu.pop_front();
      if (done.checkout && done.phase == 0) {
        done.cpu_left = now + mix.payment;  // when the payment answers
        paying.push_back(done);
        continue;
      }
      answered_unseen.push_back(done);
    }
    if (limiter && proxy_runs && (now / kTick) % 200 == 0) {
      limiter->Update(now, in_flight);
    }
  }
  if (!page_latencies.empty()) {
    const size_t k = page_latencies.size() * 99 / 100;
    std::nth_element(page_latencies.begin(),
                     page_latencies.begin() + static_cast<long>(k),
                     page_latencies.end());
    out.page_p99_ns = page_latencies[k];
  }
  return out;
}

TEST(LimiterSimTest, AMixOfPagesAndCheckoutsKeepsTheAppBusyAndItsQueueShort) {
  const Mix mix;
  const int64_t start = 1'000'000 * kMs;
  const Outcome unlimited = Simulate(mix, nullptr, 20, start);
  LimiterSettings settings;
  GradientLimiter limiter(settings, start);
  const Outcome limited = Simulate(mix, &limiter, 20, start);
  const double ratio = static_cast<double>(limited.served) /
                       static_cast<double>(unlimited.served);
  RecordProperty("served_ratio", std::to_string(ratio));
  EXPECT_GE(ratio, 0.9) << "served " << limited.served << " of "
                        << unlimited.served << "; limit at the end "
                        << limiter.limit() << ", most in flight "
                        << limited.most_in_flight;
  // With no limit every page waits behind the whole backlog; with one, a
  // page waits a little longer than the payments' share of the app.
  EXPECT_LT(limited.page_p99_ns * 10, unlimited.page_p99_ns)
      << "page p99 " << limited.page_p99_ns / kMs << " ms against "
      << unlimited.page_p99_ns / kMs << " ms unlimited";
}

}  // namespace
}  // namespace corral::overload
