// The public face of corral for a C++ app: describe the app, hand it to
// corral::Main, and the binary becomes a master with one worker per CPU.
// examples/hello is a whole app in a page.
#ifndef CORRAL_CORRAL_APP_H_
#define CORRAL_CORRAL_APP_H_

#include "app/app.h"

namespace corral {

// The whole program: master, worker or `healthcheck`, chosen from argv and
// the environment. Returns the process exit code.
int Main(int argc, char** argv, const App& app);

// The `corral` binary: `corral [flags] -- CMD`, any program as the
// container's init (no --listen) or as N workers on one socket.
int CommandMain(int argc, char** argv);

}  // namespace corral

#endif  // CORRAL_CORRAL_APP_H_
