#include "master/memory_guard.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "log/log.h"

namespace corral::master {

using memory::FormatBytes;

RecycleOrder ChooseOrder(const memory::MemoryFigures& f, int64_t fresh_bytes,
                         std::string* why) {
  if (!f.limit_bytes) {
    *why = "no memory limit";
    return RecycleOrder::kReplacementFirst;
  }
  const int64_t room = *f.limit_bytes - f.working_set();
  if (room > fresh_bytes + fresh_bytes / 4) {
    *why = absl::StrCat(FormatBytes(room),
                        " left below the limit holds a new "
                        "worker (",
                        FormatBytes(fresh_bytes), ")");
    return RecycleOrder::kReplacementFirst;
  }
  *why = absl::StrCat("only ", FormatBytes(room),
                      " left below the limit, too little for a new worker (",
                      FormatBytes(fresh_bytes), ") beside the old one");
  return RecycleOrder::kDrainFirst;
}

std::optional<int64_t> MemoryGuard::Threshold(
    const memory::MemoryFigures& f) const {
  if (!config_.threshold || !f.limit_bytes) return std::nullopt;
  return static_cast<int64_t>(*config_.threshold *
                              static_cast<double>(*f.limit_bytes));
}

std::optional<MemoryRecycle> MemoryGuard::Check(
    const memory::MemoryFigures& f, const std::vector<WorkerMemory>& workers,
    bool busy, int64_t now_ns, std::optional<int64_t> fresh_bytes) {
  std::optional<int64_t> threshold = Threshold(f);
  if (!threshold || busy) return std::nullopt;
  const int64_t ws = f.working_set();
  if (pending_) {
    // The last recycle is over: did it give back at least half of what the
    // worker held? If not, something else holds the memory (the master, a
    // sidecar's share, a leak in every worker at once): wait longer.
    const int64_t freed = pending_->working_set_before - ws;
    if (ws >= *threshold && freed < pending_->worker_bytes / 2) {
      backoff_ = backoff_ == absl::ZeroDuration()
                     ? config_.backoff
                     : std::min(backoff_ * 2, config_.backoff_cap);
      next_at_ns_ = now_ns + absl::ToInt64Nanoseconds(backoff_);
      log::Warn(
          "memory guard: recycling did not bring usage down; waiting "
          "before the next",
          {{"working_set_bytes", ws},
           {"threshold_bytes", *threshold},
           {"freed_bytes", freed},
           {"wait_seconds", absl::ToDoubleSeconds(backoff_)}});
    } else {
      backoff_ = absl::ZeroDuration();
    }
    pending_.reset();
  }
  if (ws < *threshold) {
    backoff_ = absl::ZeroDuration();
    return std::nullopt;
  }
  if (now_ns < next_at_ns_ || workers.empty()) return std::nullopt;
  auto largest =
      std::max_element(workers.begin(), workers.end(),
                       [](const WorkerMemory& a, const WorkerMemory& b) {
                         return a.bytes < b.bytes;
                       });
  auto smallest =
      std::min_element(workers.begin(), workers.end(),
                       [](const WorkerMemory& a, const WorkerMemory& b) {
                         return a.bytes < b.bytes;
                       });
  MemoryRecycle r;
  r.worker = *largest;
  std::string order_why;
  r.order = ChooseOrder(f, fresh_bytes.value_or(smallest->bytes), &order_why);
  r.why = absl::StrCat("working set ", FormatBytes(ws), " of the ",
                       FormatBytes(*f.limit_bytes), " limit is past ",
                       FormatBytes(*threshold), "; the worker holds ",
                       FormatBytes(largest->bytes), ", the most; ", order_why);
  pending_ = Pending{ws, largest->bytes};
  return r;
}

}  // namespace corral::master
