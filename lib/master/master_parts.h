// What the master holds while it runs: Bootstrap (bootstrap.h) makes it,
// the master cycle (master.cc) drives it. Declared in the order it must be
// torn down in reverse: the pools before the region and config snapshots
// their workers use, the io_context last.
#ifndef CORRAL_MASTER_MASTER_PARTS_H_
#define CORRAL_MASTER_MASTER_PARTS_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>

#include "admin/admin_server.h"
#include "app/app.h"
#include "clock/clock.h"
#include "master/config_generations.h"
#include "master/cpu_follower.h"
#include "master/pools.h"
#include "metrics/collector.h"
#include "region/shared_region.h"

namespace corral::master {

struct MasterParts {
  explicit MasterParts(const App& app) : app(app), configs(app.config, clock) {}

  const App& app;
  clock::SystemClock clock;
  boost::asio::io_context io{1};
  std::optional<boost::asio::ip::tcp::acceptor> listener;
  std::optional<region::SharedRegion> region;
  ConfigGenerations configs;
  Pools pools;
  // Set when a pool follows the pod's CPUs.
  std::unique_ptr<CpuFollower> cpus;
  std::unique_ptr<metrics::Collector> collector;
  std::unique_ptr<admin::AdminServer> admin;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_MASTER_PARTS_H_
