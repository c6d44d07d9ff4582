// How a draining server tells its keep-alive connections to close: a share
// at a time rather than all at once. Each connection told to close costs its
// client a reconnect to a sibling worker; 14,000 of them at once (a roll at
// 28,000 connections drains half of them) arrive together, and the
// reconnects, the new worker's first accepts and the old worker's last
// answers then share the CPUs in the same second.
#ifndef CORRAL_HTTP_DRAIN_PACE_H_
#define CORRAL_HTTP_DRAIN_PACE_H_

#include <chrono>
#include <cstddef>

namespace corral::http {

// The rate a drain tells connections to close at, per draining worker.
// Each close costs the siblings a reconnect while they serve everyone else
// (bench/roll_cost.sh, 28,000 connections, median of six runs: at 5,000 a
// second a roll kept 0.69x of steady throughput, at 1,000 0.97x; see
// bench/README.md).
inline constexpr size_t kDrainClosesPerSecond = 1000;

// The longest a drain spreads its closes over: half the drain timeout, so
// the connections told last still have the other half to finish in.
std::chrono::milliseconds MaxDrainSpread(
    std::chrono::milliseconds drain_timeout);

// How long a drain of `connections` is spread over: at
// kDrainClosesPerSecond, and never more than MaxDrainSpread. 0: at once.
std::chrono::milliseconds DrainSpread(size_t connections,
                                      std::chrono::milliseconds drain_timeout);

// How many of `total` connections a drain spread over `spread` has told to
// close `elapsed` after it began: in proportion, all of them at the end.
size_t DrainedBy(size_t total, std::chrono::milliseconds elapsed,
                 std::chrono::milliseconds spread);

}  // namespace corral::http

#endif  // CORRAL_HTTP_DRAIN_PACE_H_
