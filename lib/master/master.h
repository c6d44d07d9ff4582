// The master cycle: PID 1 of the pod. Binds the sockets, starts the workers,
// and turns signals, child exits and timer ticks into Supervisor calls.
#ifndef CORRAL_MASTER_MASTER_H_
#define CORRAL_MASTER_MASTER_H_

#include <string>
#include <vector>

#include "app/app.h"
#include "options/options.h"

namespace corral::master {

// Workers are this binary again (an app built on lib/); argv is how it was
// started.
int RunMaster(const App& app, const Options& options,
              const std::vector<std::string>& argv);

// Workers are copies of `command` (corral --listen=ADDR -- CMD); with
// --proxy, proxy workers (this binary again, started with `argv`) stand in
// front of them.
int RunCommandMaster(const Options& options,
                     const std::vector<std::string>& argv,
                     const std::vector<std::string>& command);

}  // namespace corral::master

#endif  // CORRAL_MASTER_MASTER_H_
