// The worker cycle: one thread, one event loop, serving the listening socket
// it inherited until the master tells it to drain (SIGTERM).
#ifndef CORRAL_WORKER_WORKER_H_
#define CORRAL_WORKER_WORKER_H_

#include "app/app.h"
#include "options/options.h"
#include "pool/worker_env.h"

namespace corral::worker {

// Exit codes: 0 after a drain, kExitStartFailed when the app's setup failed.
inline constexpr int kExitStartFailed = 78;  // EX_CONFIG

int RunWorker(const App& app, const Options& options,
              const pool::WorkerEnv& env);

}  // namespace corral::worker

#endif  // CORRAL_WORKER_WORKER_H_
