// The public face of corral for a C++ app: describe the app, hand it to
// corral::Main, and the binary becomes a master with one worker per CPU.
#ifndef CORRAL_CORRAL_APP_H_
#define CORRAL_CORRAL_APP_H_

#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "options/options.h"

namespace corral {

// What a worker hands the app while it starts.
class WorkerContext {
 public:
  WorkerContext(boost::asio::io_context& io, http::Router& router,
                const Options& options, int worker_index, int64_t generation)
      : io_(io),
        router_(router),
        options_(options),
        worker_index_(worker_index),
        generation_(generation) {}

  // The worker's one event loop: use it for timers and async I/O, never block.
  boost::asio::io_context& io() { return io_; }
  http::Router& router() { return router_; }
  const Options& options() const { return options_; }
  int worker_index() const { return worker_index_; }
  int64_t generation() const { return generation_; }

 private:
  boost::asio::io_context& io_;
  http::Router& router_;
  const Options& options_;
  int worker_index_;
  int64_t generation_;
};

struct App {
  std::string name;
  std::string version = "0.0.0";
  // Runs in every worker before it reports ready: add routes, load data. An
  // error is the app failing its start-up check: that worker never takes
  // traffic, and a roll that needed it is aborted.
  std::function<absl::Status(WorkerContext&)> setup;
  // Defaults the app prefers; flags and environment still override them.
  Options defaults;
};

// The whole program: master, worker or `healthcheck`, chosen from argv and
// the environment. Returns the process exit code.
int Main(int argc, char** argv, const App& app);

}  // namespace corral

#endif  // CORRAL_CORRAL_APP_H_
