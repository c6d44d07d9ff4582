// Starting any program as corral's child: its own process group, default
// signal dispositions and an empty mask, only the descriptors it is meant
// to have, and the socket-activation LISTEN_PID set to its own pid between
// fork and exec.
#ifndef CORRAL_COMMAND_SPAWN_COMMAND_H_
#define CORRAL_COMMAND_SPAWN_COMMAND_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace corral::command {

// What a shell exits with when it cannot run a command.
inline constexpr int kExitNotFound = 127;
inline constexpr int kExitCannotExecute = 126;

struct CommandSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  std::vector<std::string> env;   // the whole environment, "KEY=value"
  // Descriptors the child keeps, as (descriptor here, number in the child);
  // every other descriptor is closed.
  std::vector<std::pair<int, int>> fds;
  // Variables set to the child's own pid between fork and exec: LISTEN_PID
  // and WATCHDOG_PID, which the systemd protocols check against getpid().
  std::vector<std::string> pid_vars;
  // The child gets SIGKILL if corral dies (workers); an init's child does
  // not.
  bool die_with_parent = false;
};

// In a forked child: execs argv (searched on PATH) with envp; if that
// fails, writes "corral: NAME: command not found" (exit kExitNotFound) or
// "...: cannot execute: WHY" (kExitCannotExecute) to stderr, as a shell
// would. Only async-signal-safe calls.
[[noreturn]] void ExecOrExit(char* const* argv, char* const* envp);

// Forks and execs. A command that cannot be run exits kExitNotFound or
// kExitCannotExecute with a message on stderr that names it.
absl::StatusOr<pid_t> SpawnCommand(const CommandSpec& spec);

}  // namespace corral::command

#endif  // CORRAL_COMMAND_SPAWN_COMMAND_H_
