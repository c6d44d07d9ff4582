// Starting the init shape's one child the way tini starts it: a process group
// of its own that takes the terminal, and the signal state corral itself was
// started with (command::SpawnCommand gives workers default dispositions
// instead: they are corral's, not the user's).
#ifndef CORRAL_INIT_START_CHILD_H_
#define CORRAL_INIT_START_CHILD_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pid1/pid1.h"

namespace corral::init {

// Forks and execs `argv` (argv[0] looked up in PATH) with the environment
// `env` ("KEY=value"). The child runs in a process group of its own, which
// takes the foreground of corral's terminal when stdin is one (so the
// terminal's ^C and ^Z reach it and it may read); keeps no descriptor but 0,
// 1 and 2; and starts with the mask and SIGCHLD disposition of `inherited`,
// every other disposition as corral got it. A command that cannot be run
// exits 127 or 126 with a message on stderr that names it. With
// `working_directory` (an open directory, not -1) the child starts there
// rather than in corral's own working directory.
absl::StatusOr<pid_t> StartChild(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const pid1::InheritedSignals& inherited,
                                 int working_directory = -1);

}  // namespace corral::init

#endif  // CORRAL_INIT_START_CHILD_H_
