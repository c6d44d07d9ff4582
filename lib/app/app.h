// What a C++ app tells corral about itself, and what a worker hands the app
// while it starts. corral/app.h adds Main, which runs it.
#ifndef CORRAL_APP_APP_H_
#define CORRAL_APP_APP_H_

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "config/config.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "options/options.h"

namespace corral {

// What a worker hands the app while it starts.
class WorkerContext {
 public:
  WorkerContext(boost::asio::io_context& io, http::Router& router,
                const Options& options, const config::Config& config,
                int worker_index)
      : io_(io),
        router_(router),
        options_(options),
        config_(config),
        worker_index_(worker_index) {}

  // The worker's one event loop: use it for timers and async I/O, never block.
  boost::asio::io_context& io() { return io_; }
  http::Router& router() { return router_; }
  const Options& options() const { return options_; }
  // The config generation this worker serves; it never changes under a
  // worker: a new generation means new workers.
  const config::Config& config() const { return config_; }
  int worker_index() const { return worker_index_; }
  int64_t generation() const { return config_.generation; }

 private:
  boost::asio::io_context& io_;
  http::Router& router_;
  const Options& options_;
  const config::Config& config_;
  int worker_index_;
};

struct App {
  std::string name;
  std::string version = "0.0.0";
  // Runs in every worker before it reports ready: add routes, load data. An
  // error is the app failing its start-up check: that worker never takes
  // traffic, and a roll that needed it is aborted.
  std::function<absl::Status(WorkerContext&)> setup;
  // The config keys the app reads from --config-dir, and its validation.
  config::ConfigSpec config;
  // Defaults the app prefers; flags and environment still override them.
  Options defaults;
};

}  // namespace corral

#endif  // CORRAL_APP_APP_H_
