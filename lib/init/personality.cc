#include "init/personality.h"

#include "absl/time/time.h"

namespace corral::init {

Personality PersonalityOf(std::string_view argv0) {
  std::string_view name = argv0.substr(argv0.rfind('/') + 1);
  if (name == "tini") return Personality::kTini;
  if (name == "dumb-init") return Personality::kDumbInit;
  return Personality::kCorral;
}

Options CompatDefaults() {
  Options o;
  o.drain_delay = absl::ZeroDuration();
  o.drain_timeout = absl::InfiniteDuration();
  return o;
}

}  // namespace corral::init
