// A C++ app on corral's library whose handlers cost CPU on demand, for the
// end-to-end tests of --shed-on-lag: GET and POST /spin?ms=N each hold the
// worker's event loop for N ms of its CPU time (a busy loop on the thread's
// CPU clock, so a test machine's other load changes how long that takes,
// not how much work it is), as a CPU-heavy route would.
#include <time.h>

#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "corral/app.h"

using corral::http::Request;
using corral::http::Respond;
using corral::http::Response;

namespace {

int64_t ThreadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void Spin(const Request& req, Respond respond) {
  int ms = 0;
  if (!absl::SimpleAtoi(req.QueryParam("ms").value_or("0"), &ms) || ms < 0 ||
      ms > 10'000) {
    respond(Response::Error(400, "ms must be a number from 0 to 10000"));
    return;
  }
  const int64_t until = ThreadCpuNanos() + int64_t{ms} * 1'000'000;
  while (ThreadCpuNanos() < until) {
  }
  respond(Response::Text(200, "spun\n"));
}

}  // namespace

int main(int argc, char** argv) {
  corral::App app;
  app.name = "spin-app";
  app.setup = [](corral::WorkerContext& ctx) {
    ctx.router().Get("/spin", Spin).Post("/spin", Spin);
    return absl::OkStatus();
  };
  return corral::Main(argc, argv, app);
}
