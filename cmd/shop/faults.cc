#include "shop/faults.h"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shop {

using corral::http::Request;
using corral::http::Respond;
using corral::http::Response;

bool FaultsEnabled() {
  const char* v = std::getenv("SHOP_FAULTS");
  return v != nullptr && std::string_view(v) == "1";
}

absl::Status AddFaultRoutes(corral::WorkerContext& ctx) {
  const char* dir = std::getenv("SHOP_FAULTS_DIR");
  if (dir != nullptr &&
      std::filesystem::exists(std::filesystem::path(dir) / "fail-start")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fault injection: ", std::string(dir), "/fail-start exists"));
  }
  corral::http::Router& router = ctx.router();
  router.Post("/fault/hang", [](const Request&, Respond) {
    // A handler stuck in a CPU loop: the heartbeat stops.
    volatile uint64_t spin = 0;
    for (;;) spin = spin + 1;
  });
  // Blocks the worker's loop for ?ms=N milliseconds (a handler stuck in a
  // blocking call that a signal does not end), then answers 200.
  router.Post("/fault/block", [](const Request& req, Respond respond) {
    int ms = 1000;
    if (size_t at = req.query.find("ms="); at != std::string::npos) {
      (void)absl::SimpleAtoi(req.query.substr(at + 3), &ms);
    }
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      usleep(static_cast<useconds_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(
              until - std::chrono::steady_clock::now())
              .count()));
    }
    respond(Response::Json(200, nlohmann::json({{"blocked_ms", ms}}).dump()));
  });
  // Never answers: a handler waiting on something that never comes.
  router.Post("/fault/never", [](const Request&, Respond) {});
  router.Post("/fault/crash", [](const Request&, Respond) { std::abort(); });
  router.Post("/fault/throw", [](const Request&, Respond) {
    throw std::runtime_error("fault injection: the handler threw");
  });
  boost::asio::io_context& io = ctx.io();
  // Throws from the worker's loop, outside any handler: nothing catches it.
  router.Post("/fault/throw-outside", [&io](const Request&, Respond) {
    boost::asio::post(io, [] {
      throw std::runtime_error("fault injection: thrown outside a handler");
    });
  });
  // Holds a request open for ?ms=N milliseconds, then answers 200.
  router.Post("/fault/slow", [&io](const Request& req, Respond respond) {
    int ms = 1000;
    if (size_t at = req.query.find("ms="); at != std::string::npos) {
      (void)absl::SimpleAtoi(req.query.substr(at + 3), &ms);
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(
        io, std::chrono::milliseconds(ms));
    timer->async_wait([timer, respond, ms](boost::system::error_code) {
      respond(Response::Json(200, nlohmann::json({{"slept_ms", ms}}).dump()));
    });
  });
  // Leaves an orphan: a grandchild whose parent exits at once, so it is
  // reparented to PID 1 (the master), which must reap it.
  router.Post("/fault/orphan", [](const Request& req, Respond respond) {
    int ms = 300;  // how long the orphan lives
    if (size_t at = req.query.find("ms="); at != std::string::npos) {
      (void)absl::SimpleAtoi(req.query.substr(at + 3), &ms);
    }
    int fds[2];
    if (pipe(fds) != 0) {
      respond(Response::Error(500, "pipe failed"));
      return;
    }
    pid_t child = fork();
    if (child == 0) {
      pid_t grandchild = fork();
      if (grandchild == 0) {
        usleep(static_cast<useconds_t>(ms) * 1000);
        _exit(0);
      }
      ssize_t n = write(fds[1], &grandchild, sizeof(grandchild));
      _exit(n == sizeof(grandchild) ? 0 : 1);
    }
    pid_t grandchild = 0;
    ssize_t n = read(fds[0], &grandchild, sizeof(grandchild));
    close(fds[0]);
    close(fds[1]);
    waitpid(child, nullptr, 0);
    if (n != sizeof(grandchild)) {
      respond(Response::Error(500, "fork failed"));
      return;
    }
    respond(Response::Json(
        200, nlohmann::json({{"orphan_pid", grandchild}}).dump()));
  });
  return absl::OkStatus();
}

}  // namespace shop
