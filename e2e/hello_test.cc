// examples/hello, the README's first app, runs as a whole corral app.
#include <gtest/gtest.h>

#include "harness.h"

namespace corral::e2e {
namespace {

TEST(HelloTest, TheReadmeAppServesWithProbesAndMetrics) {
  auto p = CorralProcess::Start({.args = {"--workers=2", "--drain-delay=0s"},
                                 .binary = CORRAL_HELLO_BIN});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  HttpResult root = HttpGet(p->port(), "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, "hello\n");
  HttpResult named = HttpGet(p->port(), "/hello/corral");
  EXPECT_EQ(named.status, 200);
  EXPECT_EQ(nlohmann::json::parse(named.body)["hello"], "corral");
  EXPECT_EQ(HttpGet(p->port(), "/nope").status, 404);
  std::string metrics = HttpGet(p->admin_port(), "/metrics").body;
  EXPECT_NE(metrics.find("http_route=\"/hello/{name}\""), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\ncorral_workers_wanted 2\n"), std::string::npos)
      << metrics;
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
