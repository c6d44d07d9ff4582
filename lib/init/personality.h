// Which program corral is asked to be: itself, or tini or dumb-init when a
// symlink or copy under that name started it (argv[0]). Each of those takes
// its own program's flags and environment variables (tini_args.h,
// dumb_init_args.h) and runs the init shape with what they mean.
#ifndef CORRAL_INIT_PERSONALITY_H_
#define CORRAL_INIT_PERSONALITY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "options/options.h"

namespace corral::init {

enum class Personality { kCorral, kTini, kDumbInit };

// By argv[0]'s last path component: "tini", "dumb-init", else corral.
Personality PersonalityOf(std::string_view argv0);

// What a tini or dumb-init command line asks for: the init shape with
// `parsed` and `command`, or, when `exit_code` is set, only to print `out`
// and `err` and exit with it (help, version, a usage error).
struct Invocation {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
  ParsedOptions parsed;
  std::vector<std::string> command;
};

// The init shape as tini and dumb-init run it: no drain delay, no SIGKILL
// at any deadline, no admin server.
Options CompatDefaults();

}  // namespace corral::init

#endif  // CORRAL_INIT_PERSONALITY_H_
