// corral invoked as tini: tini's command line and environment, parsed as
// tini parses them (getopt's "p:hvwgle:s", which permutes: options may
// follow the program unless POSIXLY_CORRECT is set or `--` comes first),
// with tini's exit codes (0 for -h, -l, --version; 1 for a usage error).
//
//   -s, TINI_SUBREAPER           corral always is a subreaper: accepted
//   -g, TINI_KILL_PROCESS_GROUP  --process-group, the rest of the group
//                                left alone at exit
//   -e CODE (repeatable)         --success-exit-codes
//   -p SIGNAL (SIGTERM, ...)     --parent-death-signal
//   -v (repeatable), TINI_VERBOSITY (which wins): 0 errors, 1 (default)
//                                warnings, 2 info, 3 debug
//   -w                           each orphan reaped is a warning
#ifndef CORRAL_INIT_TINI_ARGS_H_
#define CORRAL_INIT_TINI_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "init/personality.h"

namespace corral::init {

// `argv` as main got it, argv[0] included; `env` the environment.
Invocation ParseTiniArgs(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env);

}  // namespace corral::init

#endif  // CORRAL_INIT_TINI_ARGS_H_
