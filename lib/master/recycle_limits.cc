#include "master/recycle_limits.h"

#include "absl/strings/str_cat.h"
#include "memory/cgroup_memory.h"

namespace corral::master {

RecycleLimits::RecycleLimits(RecycleLimitsConfig config,
                             std::function<uint64_t(uint64_t)> draw)
    : config_(config), draw_(std::move(draw)) {}

const RecycleLimits::Limits& RecycleLimits::For(pid_t pid) {
  auto it = limits_.find(pid);
  if (it != limits_.end()) return it->second;
  Limits l;
  if (config_.max_requests > 0) {
    l.requests = config_.max_requests + draw_(config_.max_requests_jitter);
  }
  if (config_.max_age > absl::ZeroDuration()) {
    const uint64_t jitter_ms = static_cast<uint64_t>(
        absl::ToInt64Milliseconds(config_.max_age_jitter));
    l.age = config_.max_age +
            absl::Milliseconds(static_cast<int64_t>(draw_(jitter_ms)));
  }
  return limits_.emplace(pid, l).first->second;
}

std::optional<LimitReached> RecycleLimits::Check(const WorkerUsage& w) {
  const Limits& l = For(w.pid);
  if (config_.max_worker_memory > 0 && w.memory_bytes &&
      *w.memory_bytes > config_.max_worker_memory) {
    return LimitReached{
        pool::RetireReason::kWorkerMemory,
        absl::StrCat("holds ", memory::FormatBytes(*w.memory_bytes),
                     ", over --max-worker-memory ",
                     memory::FormatBytes(config_.max_worker_memory))};
  }
  if (l.requests > 0 && w.requests >= l.requests) {
    return LimitReached{pool::RetireReason::kMaxRequests,
                        absl::StrCat("served ", w.requests,
                                     " requests; its limit (--max-requests "
                                     "plus its jitter) is ",
                                     l.requests)};
  }
  if (l.age > absl::ZeroDuration() && w.age >= l.age) {
    return LimitReached{
        pool::RetireReason::kMaxAge,
        absl::StrCat(
            "has run ",
            absl::FormatDuration(absl::Trunc(w.age, absl::Seconds(1))),
            "; its limit (--max-worker-age plus its jitter) is ",
            absl::FormatDuration(absl::Trunc(l.age, absl::Seconds(1))))};
  }
  return std::nullopt;
}

void RecycleLimits::Keep(const std::set<pid_t>& live) {
  std::erase_if(limits_,
                [&live](const auto& kv) { return live.count(kv.first) == 0; });
}

}  // namespace corral::master
