// The set-up only `corral --listen=ADDR -- CMD` needs: its copies of CMD
// (readiness, config snapshot directories, --config-check) and, with
// --proxy, the proxy workers in front of them.
#ifndef CORRAL_MASTER_COMMAND_SHAPE_H_
#define CORRAL_MASTER_COMMAND_SHAPE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "master/master_parts.h"
#include "options/options.h"
#include "region/shared_region.h"

namespace corral::master {

// Where proxy mode's two pools sit in the metrics region.
struct ProxyLayout {
  int proxies = 0;  // proxy workers
  region::SlotRange app_slots;
  region::SlotRange proxy_slots;
};

// Fills parts.pools' workers (as CommandWorkers) and config check.
absl::Status MakeCommandWorkers(const Options& options,
                                const std::vector<std::string>& command,
                                const SupervisorConfig& config,
                                const ProxyLayout& layout, MasterParts& parts);

// Proxy mode: fills parts.pools' proxy workers, this binary again (`argv`).
void MakeProxies(const Options& options, const std::vector<std::string>& argv,
                 const SupervisorConfig& apps, const ProxyLayout& layout,
                 MasterParts& parts);

}  // namespace corral::master

#endif  // CORRAL_MASTER_COMMAND_SHAPE_H_
