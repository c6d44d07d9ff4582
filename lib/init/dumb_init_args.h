// corral invoked as dumb-init: dumb-init's command line and environment,
// parsed as dumb-init parses them (getopt_long's "+hvVcr:": options end at
// the program or at `--`; long options may be abbreviated), with its exit
// codes (0 for -h and -V, whose text goes to standard error; 1 for a usage
// error).
//
//   default, DUMB_INIT_SETSID unset or not "0": the child's process group
//       gets every signal (--process-group) and SIGTERM when the child
//       exits; TSTP, TTIN and TTOU reach it as STOP unless -r says otherwise
//   -c, --single-child, DUMB_INIT_SETSID=0: signals go to the child only
//   -r, --rewrite S:R (repeatable)  --rewrite-signal; R 0 drops S
//   -v, --verbose, DUMB_INIT_DEBUG=1: debug log lines (else errors only)
#ifndef CORRAL_INIT_DUMB_INIT_ARGS_H_
#define CORRAL_INIT_DUMB_INIT_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "init/personality.h"

namespace corral::init {

// `argv` as main got it, argv[0] included; `env` the environment.
Invocation ParseDumbInitArgs(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env);

}  // namespace corral::init

#endif  // CORRAL_INIT_DUMB_INIT_ARGS_H_
