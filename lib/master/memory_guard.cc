#include "master/memory_guard.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "log/log.h"

namespace corral::master {

using memory::FormatBytes;

RecycleOrder ChooseOrder(const memory::MemoryFigures& f, int64_t fresh_bytes,
                         int64_t growth_bytes, std::string* why) {
  if (!f.limit_bytes) {
    *why = "no memory limit";
    return RecycleOrder::kReplacementFirst;
  }
  const int64_t room = *f.limit_bytes - f.working_set();
  const std::string growth =
      growth_bytes > 0
          ? absl::StrCat(" and the ", FormatBytes(growth_bytes),
                         " the working set may grow until the old one is gone")
          : "";
  if (room > fresh_bytes + fresh_bytes / 4 + growth_bytes) {
    *why = absl::StrCat(FormatBytes(room),
                        " left below the limit holds a new "
                        "worker (",
                        FormatBytes(fresh_bytes), ")", growth);
    return RecycleOrder::kReplacementFirst;
  }
  *why = absl::StrCat("only ", FormatBytes(room),
                      " left below the limit, too little for a new worker (",
                      FormatBytes(fresh_bytes), ") beside the old one", growth);
  return RecycleOrder::kDrainFirst;
}

int64_t MemoryGuard::GrowthDuring(absl::Duration d) const {
  double fastest = 0;
  for (double rate : window_rates_) fastest = std::max(fastest, rate);
  return static_cast<int64_t>(fastest * absl::ToDoubleSeconds(d));
}

void MemoryGuard::MeasureGrowth(int64_t ws, int64_t now_ns) {
  // Rises only: the drop when a worker exits says nothing of how fast the
  // others grow.
  if (last_ws_ >= 0 && ws > last_ws_) window_rises_ += ws - last_ws_;
  if (last_ws_ < 0) {
    window_start_ns_ = now_ns;
  } else if (now_ns - window_start_ns_ >=
             absl::ToInt64Nanoseconds(config_.growth_window)) {
    window_rates_.push_back(static_cast<double>(window_rises_) * 1e9 /
                            static_cast<double>(now_ns - window_start_ns_));
    while (window_rates_.size() >
           static_cast<size_t>(std::max(1, config_.growth_windows))) {
      window_rates_.pop_front();
    }
    window_start_ns_ = now_ns;
    window_rises_ = 0;
  }
  last_ws_ = ws;
}

std::optional<int64_t> MemoryGuard::Threshold(
    const memory::MemoryFigures& f) const {
  if (!config_.threshold || !f.limit_bytes) return std::nullopt;
  return static_cast<int64_t>(*config_.threshold *
                              static_cast<double>(*f.limit_bytes));
}

std::optional<MemoryRecycle> MemoryGuard::Check(
    const memory::MemoryFigures& f, const std::vector<WorkerMemory>& workers,
    bool busy, int64_t now_ns, std::optional<int64_t> fresh_bytes,
    absl::Duration replacement_time) {
  std::optional<int64_t> threshold = Threshold(f);
  if (!threshold) return std::nullopt;
  const int64_t ws = f.working_set();
  MeasureGrowth(ws, now_ns);
  if (busy) return std::nullopt;
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
  r.order = ChooseOrder(f, fresh_bytes.value_or(smallest->bytes),
                        ReplacementGrowth(replacement_time), &order_why);
  r.why = absl::StrCat("working set ", FormatBytes(ws), " of the ",
                       FormatBytes(*f.limit_bytes), " limit is past ",
                       FormatBytes(*threshold), "; the worker holds ",
                       FormatBytes(largest->bytes), ", the most; ", order_why);
  pending_ = Pending{ws, largest->bytes};
  return r;
}

}  // namespace corral::master
