// The example apps in examples/ run unmodified under `corral -- CMD`: five
// rolls under a store's load, and every request the load client sent was
// answered 2xx.
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "expect_load.h"
#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

const std::string kExamples = CORRAL_EXAMPLES;

struct Example {
  std::string name;
  std::string ready;
  std::vector<std::string> command;
};

void PrintTo(const Example& e, std::ostream* os) { *os << e.name; }

class ExampleTest : public ::testing::TestWithParam<Example> {};

TEST_P(ExampleTest, FiveRollsUnderLoadLoseNothing) {
  const Example& example = GetParam();
  auto p = CorralProcess::Start(
      {.args = {"--workers=2", "--ready=" + example.ready, "--drain-delay=0s"},
       .binary = CORRAL_BIN,
       .command = example.command});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  LoadOptions o;
  o.port = p->port();
  o.connections = 100;
  o.next = StoreMix;
  LoadClient load(o);
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(1000, 30s)) << load.Counts().ToString();
  RollUnderLoad(*p, load, 5);
  if (HasFatalFailure()) return;
  StopAndExpectNoFailures(load);
  std::cout << example.name << " across 5 rolls: " << load.Counts().ToString()
            << "\n";
  for (const auto& line : p->LogsWithMsg("roll finished")) {
    EXPECT_EQ(line["result"], "success") << line.dump();
  }
  // 2 workers at start and 2 per roll; each old one drained and exited 0.
  EXPECT_EQ(p->LogsWithMsg("worker started").size(), 12u) << p->Logs();
  EXPECT_TRUE(p->WaitForLog("worker retired", 10, 30s)) << p->Logs();
  EXPECT_TRUE(p->LogsWithMsg("worker retired by force").empty());
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ExampleTest,
    ::testing::Values(
        Example{"node", "pipe", {"node", kExamples + "/node-store/server.js"}},
        Example{
            "python",
            "notify",
            {"/usr/bin/python3", "-m", "gunicorn", "--chdir",
             kExamples + "/python-store", "--config",
             kExamples + "/python-store/gunicorn.conf.py", "app:application"}},
        Example{"go", "notify", {CORRAL_GO_STORE_BIN}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace corral::e2e
