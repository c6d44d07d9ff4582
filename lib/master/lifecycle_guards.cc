#include "master/lifecycle_guards.h"

#include <algorithm>
#include <set>

#include "log/log.h"
#include "memory/process_memory.h"

namespace corral::master {
namespace {

constexpr absl::Duration kCheckEvery = absl::Milliseconds(250);

}  // namespace

LifecycleGuards::LifecycleGuards(GuardSettings settings,
                                 std::optional<memory::MemoryCgroup> cgroup,
                                 const region::SharedRegion& region,
                                 const clock::Clock& clock)
    : settings_(settings),
      cgroup_(std::move(cgroup)),
      region_(region),
      clock_(clock),
      guard_(settings.memory),
      limits_(settings.limits,
              [this](uint64_t n) {
                return n == 0 ? 0
                              : std::uniform_int_distribution<uint64_t>(
                                    0, n)(random_);
              }),
      random_(std::random_device()()) {
  if (cgroup_) {
    absl::StatusOr<memory::MemoryFigures> f = memory::Read(*cgroup_);
    if (f.ok()) oom_seen_ = f->oom_kills.value_or(0);
  }
}

void LifecycleGuards::Watch(Supervisor& pool, bool limits) {
  pools_.push_back({&pool, limits});
  pool.OnUnexpectedKill([this](pid_t pid) { return OomKill(pid); });
}

void LifecycleGuards::LogSetUp() const {
  nlohmann::json fields;
  const RecycleLimitsConfig& l = settings_.limits;
  if (l.max_requests > 0) {
    fields["max_requests"] = l.max_requests;
    fields["max_requests_jitter"] = l.max_requests_jitter;
  }
  if (l.max_age > absl::ZeroDuration()) {
    fields["max_worker_age_seconds"] = absl::ToDoubleSeconds(l.max_age);
    fields["max_worker_age_jitter_seconds"] =
        absl::ToDoubleSeconds(l.max_age_jitter);
  }
  if (l.max_worker_memory > 0) {
    fields["max_worker_memory_bytes"] = l.max_worker_memory;
  }
  if (!cgroup_) {
    fields["memory_guard"] = "off: no memory cgroup found";
    log::Info("lifecycle guards", fields);
    return;
  }
  fields["cgroup"] = cgroup_->dir;
  fields["cgroup_version"] = cgroup_->v2 ? 2 : 1;
  absl::StatusOr<memory::MemoryFigures> f = memory::Read(*cgroup_);
  if (!f.ok()) {
    fields["memory_guard"] = "off: " + std::string(f.status().message());
  } else if (!settings_.memory.threshold) {
    fields["memory_guard"] = "off: --memory-guard=off";
  } else if (!f->limit_bytes) {
    fields["memory_guard"] = "idle: the container has no memory limit";
  } else {
    fields["memory_guard"] = "on";
    fields["memory_limit_bytes"] = *f->limit_bytes;
    fields["threshold_bytes"] = *guard_.Threshold(*f);
  }
  fields["oom_kills_counted"] = f.ok() && f->oom_kills.has_value();
  log::Info("lifecycle guards", fields);
}

bool LifecycleGuards::AnyBusy() const {
  for (const Watched& w : pools_) {
    if (w.pool->RecycleBusy()) return true;
  }
  return false;
}

void LifecycleGuards::Tick() {
  const int64_t now = clock_.Now();
  TimeDrains();
  if (now >= next_requested_ns_) {
    next_requested_ns_ = now + absl::ToInt64Nanoseconds(kCheckEvery);
    CheckRequested();
  }
  const bool limits_due = limits_.config().any() && now >= next_limits_ns_;
  const bool guard_on = settings_.memory.threshold.has_value();
  // Without a limit, once a second is enough to see one set (a resize).
  const bool memory_due = guard_on && now >= next_memory_ns_;
  if (!limits_due && !memory_due) return;
  std::optional<memory::MemoryFigures> figures;
  if (cgroup_) {
    absl::StatusOr<memory::MemoryFigures> f = memory::Read(*cgroup_);
    if (f.ok()) figures = *f;
  }
  if (limits_due) {
    next_limits_ns_ = now + absl::ToInt64Nanoseconds(kCheckEvery);
    CheckLimits(figures);
  }
  if (memory_due && figures && figures->limit_bytes) {
    CheckMemory(*figures);
  } else if (memory_due) {
    next_memory_ns_ = now + absl::ToInt64Nanoseconds(absl::Seconds(1));
  }
}

std::optional<int64_t> LifecycleGuards::FreshWorkerBytes() {
  std::set<pid_t> live;
  std::optional<int64_t> most;
  for (const Watched& watched : pools_) {
    for (const auto& [pid, w] : watched.pool->workers()) {
      live.insert(pid);
      if (w.phase != WorkerPhase::kReady) continue;
      auto it = fresh_bytes_.find(pid);
      if (it == fresh_bytes_.end()) {
        std::optional<int64_t> bytes = memory::TreeMemory(pid);
        if (!bytes) continue;
        it = fresh_bytes_.emplace(pid, *bytes).first;
      }
      if (!most || it->second > *most) most = it->second;
    }
  }
  std::erase_if(fresh_bytes_,
                [&live](const auto& kv) { return !live.count(kv.first); });
  return most;
}

absl::Duration LifecycleGuards::ReplacementTime() const {
  int64_t longest = 0;
  for (const Watched& watched : pools_) {
    for (const auto& [pid, w] : watched.pool->workers()) {
      if (w.phase != WorkerPhase::kReady || w.ready_ns < w.spawned_ns) continue;
      longest = std::max(longest, w.ready_ns - w.spawned_ns);
    }
  }
  return absl::Nanoseconds(longest) + last_drain_;
}

void LifecycleGuards::TimeDrains() {
  std::set<pid_t> draining;
  for (const Watched& watched : pools_) {
    for (const auto& [pid, w] : watched.pool->workers()) {
      if (w.phase != WorkerPhase::kDraining) continue;
      draining.insert(pid);
      draining_since_.emplace(pid, w.drain_started_ns);
    }
  }
  const int64_t now = clock_.Now();
  for (auto it = draining_since_.begin(); it != draining_since_.end();) {
    if (draining.count(it->first)) {
      ++it;
      continue;
    }
    last_drain_ = absl::Nanoseconds(now - it->second);
    it = draining_since_.erase(it);
  }
}

std::vector<WorkerMemory> LifecycleGuards::MeasureWorkers() {
  std::vector<WorkerMemory> out;
  last_bytes_.clear();
  for (size_t p = 0; p < pools_.size(); ++p) {
    for (const auto& [pid, w] : pools_[p].pool->workers()) {
      if (w.phase != WorkerPhase::kReady) continue;
      std::optional<int64_t> bytes = memory::TreeMemory(pid);
      if (!bytes) continue;
      last_bytes_[pid] = *bytes;
      out.push_back({static_cast<int>(p), pid, w.index, *bytes});
    }
  }
  return out;
}

void LifecycleGuards::CheckRequested() {
  for (const Watched& watched : pools_) {
    Supervisor& pool = *watched.pool;
    for (const auto& [pid, w] : pool.workers()) {
      if (w.phase != WorkerPhase::kReady ||
          region_.slot(w.slot).recycle_requested.load(
              std::memory_order_acquire) == 0) {
        continue;
      }
      // Queued by the pool: one recycle at a time, replacement first.
      pool.RequestRecycle(pid, RetireReason::kDeadline,
                          RecycleOrder::kReplacementFirst,
                          "a request of its passed --request-deadline");
    }
  }
}

void LifecycleGuards::CheckLimits(
    const std::optional<memory::MemoryFigures>& figures) {
  const int64_t now = clock_.Now();
  for (const Watched& watched : pools_) {
    if (!watched.limits) continue;
    Supervisor& pool = *watched.pool;
    std::set<pid_t> live;
    std::vector<std::pair<WorkerUsage, int>> usages;
    for (const auto& [pid, w] : pool.workers()) {
      live.insert(pid);
      if (w.phase != WorkerPhase::kReady) continue;
      WorkerUsage u;
      u.pid = pid;
      u.requests =
          region_.slot(w.slot).requests_total.load(std::memory_order_relaxed);
      u.age = absl::Nanoseconds(now - w.spawned_ns);
      if (limits_.config().max_worker_memory > 0) {
        u.memory_bytes = memory::TreeMemory(pid);
        if (u.memory_bytes) last_bytes_[pid] = *u.memory_bytes;
      }
      usages.push_back({u, w.index});
    }
    limits_.Keep(live);
    if (pool.RecycleBusy()) continue;
    for (const auto& [u, index] : usages) {
      std::optional<LimitReached> due = limits_.Check(u);
      if (!due) continue;
      // Replacement first, unless the container's limit has no room for it.
      RecycleOrder order = RecycleOrder::kReplacementFirst;
      std::string order_why = "replacement first";
      if (figures && figures->limit_bytes) {
        if (std::optional<int64_t> fresh = FreshWorkerBytes()) {
          order = ChooseOrder(*figures, *fresh,
                              guard_.ReplacementGrowth(ReplacementTime()),
                              &order_why);
        }
      }
      pool.RequestRecycle(u.pid, due->reason, order,
                          due->why + "; " + order_why);
      break;
    }
  }
}

void LifecycleGuards::CheckMemory(const memory::MemoryFigures& figures) {
  std::optional<int64_t> threshold = guard_.Threshold(figures);
  if (!threshold) return;
  const bool busy = AnyBusy();
  // Workers are measured only past the threshold: smaps_rollup walks each
  // process's page tables.
  std::vector<WorkerMemory> workers;
  if (!busy && figures.working_set() >= *threshold) workers = MeasureWorkers();
  std::optional<int64_t> fresh = FreshWorkerBytes();
  std::optional<MemoryRecycle> r = guard_.Check(
      figures, workers, busy, clock_.Now(), fresh, ReplacementTime());
  if (!r) return;
  log::Warn(
      "memory near the container's limit: recycling the worker "
      "that holds the most",
      {{"worker", r->worker.index},
       {"worker_pid", r->worker.pid},
       {"worker_bytes", r->worker.bytes},
       {"limit_bytes", figures.limit_bytes.value_or(0)},
       {"working_set_bytes", figures.working_set()},
       {"usage_bytes", figures.usage_bytes},
       {"threshold_bytes", *threshold},
       {"order", Name(r->order)},
       {"why", r->why}});
  Supervisor& pool = *pools_[static_cast<size_t>(r->worker.pool)].pool;
  if (!pool.RequestRecycle(r->worker.pid, RetireReason::kMemory, r->order,
                           r->why)) {
    guard_.Abandon();
  }
}

std::optional<nlohmann::json> LifecycleGuards::OomKill(pid_t pid) {
  if (!cgroup_) return std::nullopt;
  absl::StatusOr<memory::MemoryFigures> f = memory::Read(*cgroup_);
  if (!f.ok() || !f->oom_kills || *f->oom_kills <= oom_seen_) {
    return std::nullopt;
  }
  ++oom_seen_;
  nlohmann::json j = {{"limit_bytes", f->limit_bytes.value_or(0)},
                      {"usage_bytes", f->usage_bytes},
                      {"working_set_bytes", f->working_set()},
                      {"oom_kills", *f->oom_kills},
                      {"cgroup", cgroup_->dir}};
  if (auto it = last_bytes_.find(pid); it != last_bytes_.end()) {
    j["worker_bytes_last_seen"] = it->second;
  }
  return j;
}

}  // namespace corral::master
