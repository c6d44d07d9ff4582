// --max-requests, --max-worker-age and --max-worker-memory: when a worker
// has served enough requests, lived long enough or grown too big to keep.
// Each worker gets its own limits when first seen, the base plus a random
// share of the jitter (gunicorn's max_requests_jitter), so workers started
// together do not all come due together. Pure: the random draw is injected.
#ifndef CORRAL_MASTER_RECYCLE_LIMITS_H_
#define CORRAL_MASTER_RECYCLE_LIMITS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "pool/pool.h"

namespace corral::master {

struct RecycleLimitsConfig {
  uint64_t max_requests = 0;  // 0: no limit
  uint64_t max_requests_jitter = 0;
  absl::Duration max_age = absl::ZeroDuration();  // zero: no limit
  absl::Duration max_age_jitter = absl::ZeroDuration();
  int64_t max_worker_memory = 0;  // bytes; 0: no limit

  bool any() const {
    return max_requests > 0 || max_age > absl::ZeroDuration() ||
           max_worker_memory > 0;
  }
};

// What a worker has done so far.
struct WorkerUsage {
  pid_t pid = 0;
  uint64_t requests = 0;
  absl::Duration age;
  std::optional<int64_t> memory_bytes;  // read only when there is a limit
};

struct LimitReached {
  pool::RetireReason reason = pool::RetireReason::kNone;
  std::string why;  // the figures, for the log
};

class RecycleLimits {
 public:
  // `draw(n)` returns a number from 0 to n, both included.
  RecycleLimits(RecycleLimitsConfig config,
                std::function<uint64_t(uint64_t n)> draw);

  const RecycleLimitsConfig& config() const { return config_; }

  // The first limit `w` has reached, if any.
  std::optional<LimitReached> Check(const WorkerUsage& w);
  // Drops the limits of workers that are gone.
  void Keep(const std::set<pid_t>& live);

 private:
  struct Limits {
    uint64_t requests = 0;
    absl::Duration age;
  };
  const Limits& For(pid_t pid);

  RecycleLimitsConfig config_;
  std::function<uint64_t(uint64_t)> draw_;
  std::map<pid_t, Limits> limits_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_RECYCLE_LIMITS_H_
