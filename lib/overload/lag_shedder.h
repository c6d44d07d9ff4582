// Shedding for a C++ app's worker: one thread, one event loop, many
// connections, handlers run in the loop. Its queue is the loop itself, so
// its delay is the loop's lag: how late its own work makes a timer due
// every probe period (a busy turn of the loop delays it, as it delays
// every request that arrived meanwhile). The caller measures the lag; the
// worker counts its thread's CPU time, so that time the kernel gave other
// processes (a noisy node, a benchmark's client on the same cores) is not
// taken for handlers falling behind. The rules are the proxy's queue's
// (delay_target.h):
//
// - the loop is *behind* once its lag has stood above the target for a
//   whole interval (a burst that clears within the interval sheds nothing),
//   and caught up once it has stayed below the target for an interval;
// - behind, the lowest class seen in the last interval (the marginal one)
//   is shed while the loop is, at that moment, later than the target, so a
//   turn of the loop spends at most about the target on it; higher classes
//   are served; a class below the floor is shed outright;
// - when the marginal class got nothing served for a whole interval (the
//   classes above it alone keep the loop late), the floor rises past it, so
//   the next class up becomes marginal; each interval below the target
//   lowers the floor one class again.
//
// So a higher class is never shed while a lower one is served. Pure: time
// and lag come in as arguments (nanoseconds; `now` CLOCK_MONOTONIC), as in
// the proxy's.
#ifndef CORRAL_OVERLOAD_LAG_SHEDDER_H_
#define CORRAL_OVERLOAD_LAG_SHEDDER_H_

#include <array>
#include <cstdint>
#include <optional>

#include "overload/priority.h"

namespace corral::overload {

class LagShedder {
 public:
  LagShedder(int64_t target_ns, int64_t interval_ns);

  // The probe runs at `now`, `lag` late (by the loop's own work).
  void OnProbe(int64_t now_ns, int64_t lag_ns);
  // Whether any request may be shed: when false, Admit need not be asked.
  bool behind() const { return behind_; }
  // A request of class `p` is about to reach its handler at `now`, the
  // probe already `lag` overdue (0 when it is not due yet); false: answer
  // it 503 instead. Only while behind().
  bool Admit(Priority p, int64_t now_ns, int64_t lag_ns);

  // The lateness of the last probe.
  int64_t lag_ns() const { return lag_ns_; }
  // Classes below this are shed outright while behind.
  Priority floor() const { return floor_; }

 private:
  // The lowest class at or above the floor seen within the last interval.
  Priority Marginal(int64_t now_ns) const;

  int64_t target_ns_;
  int64_t interval_ns_;
  int64_t lag_ns_ = 0;
  // Since when the lag has stood past the target, or stayed below it.
  std::optional<int64_t> above_since_ns_;
  std::optional<int64_t> below_since_ns_;
  bool behind_ = false;
  Priority floor_ = Priority::kLow;
  int64_t floor_set_ns_ = 0;
  // While behind: when each class last arrived, and was last served.
  std::array<std::optional<int64_t>, kPriorities> seen_ns_{};
  std::array<std::optional<int64_t>, kPriorities> served_ns_{};
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_LAG_SHEDDER_H_
