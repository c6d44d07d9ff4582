// The assertion every zero-downtime test ends with.
#ifndef CORRAL_E2E_EXPECT_LOAD_H_
#define CORRAL_E2E_EXPECT_LOAD_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>
#include <string>

#include "harness.h"
#include "load_client.h"

namespace corral::e2e {

// The stores' load: 3 GETs of a product to 1 checkout.
inline RequestSpec StoreMix(uint64_t n) {
  if (n % 4 == 3) {
    return {"POST", "/checkout",
            R"({"items":[{"id":)" + std::to_string(1 + n % 50) +
                R"(,"quantity":1}]})"};
  }
  return {"GET", "/products/" + std::to_string(1 + n % 500), ""};
}

// Adds to `pids` the X-Worker-Pid of every answer the load gets.
inline void CollectWorkerPids(LoadOptions& o, std::set<std::string>* pids) {
  o.on_response = [pids](const RequestSpec&, int, const std::string&,
                         const std::map<std::string, std::string>& headers) {
    auto it = headers.find("x-worker-pid");
    if (it != headers.end()) pids->insert(it->second);
  };
}

// Stops the load (every request sent gets its outcome first), then expects
// that each one was answered 2xx: no reset, timeout, refusal or error status.
inline void StopAndExpectNoFailures(LoadClient& load) {
  load.Stop();
  LoadCounts c = load.Counts();
  EXPECT_EQ(c.failed(), 0u) << c.ToString();
  EXPECT_EQ(c.sent, c.ok) << c.ToString();
  EXPECT_GT(c.ok, 0u) << c.ToString();
}

// SIGHUPs `p` `rolls` times, each once the last has finished ("roll
// finished" in the log) and the load has had 200 more answers since.
inline void RollUnderLoad(CorralProcess& p, LoadClient& load, int rolls) {
  for (int i = 1; i <= rolls; ++i) {
    p.Signal(SIGHUP);
    ASSERT_TRUE(p.WaitForLog("roll finished", i, 60s)) << "roll " << i << "\n"
                                                       << p.Logs();
    uint64_t done = load.Counts().completed();
    ASSERT_TRUE(load.WaitForCompleted(done + 200, 30s))
        << load.Counts().ToString();
  }
}

}  // namespace corral::e2e

#endif  // CORRAL_E2E_EXPECT_LOAD_H_
