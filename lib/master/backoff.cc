#include "master/backoff.h"

namespace corral::master {

absl::Duration Backoff::Delay(int failures) const {
  if (failures <= 1) return absl::ZeroDuration();
  absl::Duration d = initial;
  for (int i = 2; i < failures; ++i) {
    d *= 2;
    if (d >= cap) return cap;
  }
  return d < cap ? d : cap;
}

}  // namespace corral::master
