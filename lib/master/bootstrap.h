// Everything the master sets up before it starts a worker; an error here
// means the pod cannot run at all.
#ifndef CORRAL_MASTER_BOOTSTRAP_H_
#define CORRAL_MASTER_BOOTSTRAP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "master/master_parts.h"
#include "options/options.h"

namespace corral::master {

// Binds the listening and admin sockets, creates the metrics region, loads
// the first config, and makes the pools of the shape: workers that are this
// binary again (`command` empty; `argv` is how it was started), copies of
// `command`, or with --proxy those copies behind proxy workers. Then the
// metrics and the admin server. Starts nothing; logs why it fails.
absl::Status Bootstrap(const Options& options,
                       const std::vector<std::string>& argv,
                       const std::vector<std::string>& command,
                       MasterParts& parts);

}  // namespace corral::master

#endif  // CORRAL_MASTER_BOOTSTRAP_H_
