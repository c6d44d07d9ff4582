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
inline constexpr size_t kDrainClosesPerSecond = 5000;

// How long a drain of `connections` is spread over: at
// kDrainClosesPerSecond, and never more than a quarter of the drain
// timeout, so the last connections still have time to finish. 0: at once.
std::chrono::milliseconds DrainSpread(size_t connections,
                                      std::chrono::milliseconds drain_timeout);

// How many of `total` connections a drain spread over `spread` has told to
// close `elapsed` after it began: in proportion, all of them at the end.
size_t DrainedBy(size_t total, std::chrono::milliseconds elapsed,
                 std::chrono::milliseconds spread);

}  // namespace corral::http

#endif  // CORRAL_HTTP_DRAIN_PACE_H_
