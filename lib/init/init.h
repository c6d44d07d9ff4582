// The init shape of `corral -- CMD` (no --listen): one child, as tini runs
// it. Every signal is passed on, SIGTERM/SIGINT through the drain delay
// first, orphans are reaped, and corral exits with the child's code as soon
// as the child has exited.
#ifndef CORRAL_INIT_INIT_H_
#define CORRAL_INIT_INIT_H_

#include <map>
#include <string>
#include <vector>

#include "options/options.h"
#include "pid1/pid1.h"

namespace corral::init {

// The exit code a shell would give for a waitpid status: the code, or
// 128+N when signal N ended the process.
int ExitCodeOf(int wait_status);

// What the init shape passes on for a signal it received: `sig`, or what
// `rewrites` (--rewrite-signal) maps it to; 0 for nothing.
int RewriteSignal(const std::map<int, int>& rewrites, int sig);

// Whether the init shape passes `sig` on to the child: every signal a
// process can catch but SIGCHLD, corral's own, and SIGTERM and SIGINT, which
// start the drain, which ends in a signal too.
bool IsForwarded(int sig);

// The signals that stop a job from the terminal: SIGTSTP (^Z), SIGTTIN and
// SIGTTOU (a background job's reading or writing the terminal).
bool IsTerminalStop(int sig);

// Runs `command` until it exits; returns the code to exit with. When
// --admin was given, probes answer there while the child runs. Every signal
// is blocked already (pid1::BlockAllSignals); `inherited` is what corral was
// started with, which the child gets.
int RunInit(const ParsedOptions& parsed,
            const std::vector<std::string>& command,
            const pid1::InheritedSignals& inherited);

}  // namespace corral::init

#endif  // CORRAL_INIT_INIT_H_
