// How long to wait before restarting a worker that keeps failing.
#ifndef CORRAL_MASTER_BACKOFF_H_
#define CORRAL_MASTER_BACKOFF_H_

#include "absl/time/time.h"

namespace corral::master {

struct Backoff {
  absl::Duration initial = absl::Milliseconds(500);
  absl::Duration cap = absl::Seconds(30);
  // A worker that stays ready this long has recovered: its count resets.
  absl::Duration stable_after = absl::Seconds(10);

  // failures = consecutive failures so far, counting the one just seen. The
  // first restart is immediate (a one-off crash costs nothing), then the
  // delay doubles up to the cap.
  absl::Duration Delay(int failures) const;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_BACKOFF_H_
