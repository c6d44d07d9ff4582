// PID-1 duties, in one small unit: whoever runs as the container's init must
// reap every child, orphans included, or zombies pile up.
#ifndef CORRAL_PID1_PID1_H_
#define CORRAL_PID1_PID1_H_

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace corral::pid1 {

// The signal state corral was started with, which the init shape's child
// gets back (tini's rule): the blocked set, and the one disposition corral
// must change for itself, SIGCHLD's (ignored, it would lose the exit code).
struct InheritedSignals {
  sigset_t mask;
  struct sigaction chld;
};

// What corral does before anything else: block every signal that can be
// blocked, so one sent while corral starts stays pending for the init loop
// instead of ending corral by its default action or, as PID 1, being
// dropped. Returns the state it found.
InheritedSignals BlockAllSignals();

// Puts back the mask BlockAllSignals found: for the shapes that install
// handlers of their own. A signal that came meanwhile is delivered now.
void RestoreSignals(const InheritedSignals& inherited);

// When not PID 1, become a child subreaper so orphaned grandchildren are
// reparented to us (and reaped) instead of escaping to the host's init.
absl::Status BecomeReaper();

// What an init does first: ignore SIGPIPE (its own broken writes) and
// SIGTTIN/SIGTTOU (a terminal's job control must not stop it), then
// BecomeReaper. The error is BecomeReaper's, for the caller to log.
absl::Status SetUpAsInit();

struct ExitedChild {
  pid_t pid;
  int status;  // as from waitpid
};

// Collects every child that has exited, without blocking.
std::vector<ExitedChild> ReapChildren();

// Live children of this process (workers, and orphans reparented to us),
// from /proc; none when /proc belongs to another PID namespace.
std::vector<pid_t> Children();

// At exit: SIGTERM every remaining child, wait up to `grace` for them, then
// SIGKILL the rest, and reap all. Nothing outlives us. Returns how many.
int EndRemainingChildren(int grace_ms);

// "exited with code 3", "killed by SIGKILL".
std::string DescribeExit(int status);
bool ExitedCleanly(int status);

}  // namespace corral::pid1

#endif  // CORRAL_PID1_PID1_H_
