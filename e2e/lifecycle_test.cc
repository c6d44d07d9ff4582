// Lifecycle guards on a real cgroup v1 memory cgroup with a real limit: a
// leaky Node app (e2e/apps/leaky_app.js) recycled before the kernel's OOM
// killer acts, in socket mode and proxy mode, with every request answered;
// an OOM kill (guard off) reported as one; --max-requests and
// --max-worker-age recycling under load with every request answered.
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>

#include "expect_load.h"
#include "harness.h"
#include "load_client.h"
#include "memory_cgroup.h"

namespace corral::e2e {
namespace {

constexpr int64_t kMiB = 1 << 20;
const std::string kLeakyApp = std::string(CORRAL_E2E_APPS) + "/leaky_app.js";

std::map<std::string, double> Scrape(const CorralProcess& p) {
  return ParseExposition(HttpGet(p.admin_port(), "/metrics").body);
}

double Restarts(const CorralProcess& p, const std::string& reason) {
  return Scrape(p)["corral_worker_restarts_total{reason=\"" + reason + "\"}"];
}

std::unique_ptr<CorralProcess> Leaky(std::vector<std::string> args,
                                     const std::string& cgroup,
                                     const std::string& leak_kb = "256") {
  args.push_back("--drain-delay=0s");
  return CorralProcess::Start({.args = std::move(args),
                               .env = {{"LEAK_KB", leak_kb}},
                               .binary = CORRAL_BIN,
                               .command = {"node", kLeakyApp},
                               .cgroup = cgroup});
}

// Each connection waits `ms` per request: a steady load, not a flood.
LoadOptions Steady(const CorralProcess& p, int connections, int ms) {
  LoadOptions o;
  o.port = p.port();
  o.connections = connections;
  o.next = [ms](uint64_t) -> RequestSpec {
    return {"GET", "/?ms=" + std::to_string(ms), ""};
  };
  return o;
}

// Runs the load until `recycles` recycles have finished, then stops it and
// expects every request answered 2xx.
void LoadUntilRecycled(CorralProcess& p, LoadOptions o, size_t recycles) {
  LoadClient load(o);
  load.Start();
  EXPECT_TRUE(p.WaitForLog("recycle finished", recycles, 90s))
      << load.Counts().ToString() << "\n"
      << p.Logs();
  StopAndExpectNoFailures(load);
  std::cout << "load across " << recycles
            << " recycles: " << load.Counts().ToString() << "\n";
}

void ExpectMemoryRecyclesAndNoOomKill(const CorralProcess& p,
                                      const MemoryCgroup& cg) {
  EXPECT_EQ(cg.OomKills(), 0) << p.Logs();
  EXPECT_TRUE(p.LogsWithMsg("worker killed by the kernel's OOM killer").empty())
      << p.Logs();
  auto guarded = p.LogsWithMsg(
      "memory near the container's limit: recycling the worker "
      "that holds the most");
  ASSERT_FALSE(guarded.empty()) << p.Logs();
  for (const auto& line : guarded) {
    EXPECT_LT(line["working_set_bytes"].get<int64_t>(),
              line["limit_bytes"].get<int64_t>())
        << line.dump();
    EXPECT_GE(line["working_set_bytes"].get<int64_t>(),
              line["threshold_bytes"].get<int64_t>())
        << line.dump();
    std::cout << "guard: " << line["order"] << " " << line["why"] << "\n";
  }
  EXPECT_GE(Restarts(p, "memory"), 3) << p.Logs();
  EXPECT_EQ(Restarts(p, "oom"), 0) << p.Logs();
  EXPECT_EQ(Restarts(p, "crash"), 0) << p.Logs();
  std::cout << "cgroup peak " << cg.MaxUsage() / kMiB << " MiB\n";
}

// The leaky app under a 384 MiB limit, with corral's defaults but `args`,
// loaded until the guard has recycled three times: no OOM kill, no failed
// request, and a clean exit at SIGTERM.
void LeakyUnderTheLimitLosesNothing(std::vector<std::string> args) {
  auto cg = MemoryCgroup::Make(384 * kMiB);
  if (!cg) GTEST_SKIP() << "no writable cgroup v1 memory controller";
  auto p = Leaky(std::move(args), cg->dir());
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  auto guards = p->LogsWithMsg("lifecycle guards");
  ASSERT_EQ(guards.size(), 1u) << p->Logs();
  EXPECT_EQ(guards[0]["memory_guard"], "on") << guards[0].dump();
  EXPECT_EQ(guards[0]["memory_limit_bytes"], 384 * kMiB) << guards[0].dump();
  LoadUntilRecycled(*p, Steady(*p, 3, 20), 3);
  ExpectMemoryRecyclesAndNoOomKill(*p, *cg);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(LifecycleTest, LeakyAppInSocketModeIsRecycledBeforeTheOomKiller) {
  LeakyUnderTheLimitLosesNothing({"--workers=2"});
}

TEST(LifecycleTest, LeakyAppInProxyModeIsRecycledBeforeTheOomKiller) {
  // Unix sockets: a port picked for an app process can be taken by another
  // program before the process binds it, which would be a crash.
  LeakyUnderTheLimitLosesNothing(
      {"--proxy", "--workers=2", "--proxy-workers=1", "--app-socket-dir=/tmp"});
}

TEST(LifecycleTest, AnOomKillIsReportedAsOneWithTheMemoryFigures) {
  auto cg = MemoryCgroup::Make(192 * kMiB);
  if (!cg) GTEST_SKIP() << "no writable cgroup v1 memory controller";
  auto p = Leaky({"--workers=1", "--memory-guard=off"}, cg->dir());
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  {
    LoadClient load(Steady(*p, 4, 0));
    load.Start();
    EXPECT_TRUE(
        p->WaitForLog("worker killed by the kernel's OOM killer", 1, 60s))
        << load.Counts().ToString() << "\n"
        << p->Logs();
  }
  EXPECT_GE(cg->OomKills(), 1);
  auto lines = p->LogsWithMsg("worker killed by the kernel's OOM killer");
  ASSERT_FALSE(lines.empty()) << p->Logs();
  const auto& line = lines.front();
  EXPECT_EQ(line["reason"], "oom") << line.dump();
  EXPECT_EQ(line["exit"], "killed by SIGKILL") << line.dump();
  EXPECT_EQ(line["memory"]["limit_bytes"], 192 * kMiB) << line.dump();
  EXPECT_GE(line["memory"]["oom_kills"].get<int64_t>(), 1) << line.dump();
  // Never also a crash.
  for (const auto& crash : p->LogsWithMsg("worker died unexpectedly")) {
    EXPECT_NE(crash["exit"], "killed by SIGKILL") << crash.dump();
  }
  EXPECT_GE(Restarts(*p, "oom"), 1);
  EXPECT_EQ(Restarts(*p, "crash"), 0);
  // The worker was replaced.
  EXPECT_TRUE(p->WaitReady(30s)) << p->Logs();
  p->Signal(SIGTERM);
  p->WaitExit(30s);
}

TEST(LifecycleTest, MaxRequestsRecyclesAppProcessesWithNoFailedRequest) {
  auto p = CorralProcess::Start(
      {.args = {"--proxy", "--workers=2", "--proxy-workers=1",
                "--app-socket-dir=/tmp", "--max-requests=300",
                "--max-requests-jitter=100", "--drain-delay=0s"},
       .env = {{"LEAK_KB", "0"}},
       .binary = CORRAL_BIN,
       .command = {"node", kLeakyApp}});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  LoadUntilRecycled(*p, Steady(*p, 20, 0), 4);
  for (const auto& line : p->LogsWithMsg("recycling worker")) {
    EXPECT_EQ(line["reason"], "max_requests") << line.dump();
    EXPECT_EQ(line["order"], "replacement_first") << line.dump();
  }
  EXPECT_GE(Restarts(*p, "max_requests"), 4);
  EXPECT_EQ(Restarts(*p, "crash"), 0);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(LifecycleTest, MaxRequestsRecyclesCppWorkersWithNoFailedRequest) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=2", "--max-requests=2000",
                "--max-requests-jitter=500", "--drain-delay=0s"}});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  LoadOptions o;
  o.port = p->port();
  o.connections = 50;
  o.next = StoreMix;
  LoadUntilRecycled(*p, o, 4);
  EXPECT_GE(Restarts(*p, "max_requests"), 4);
  EXPECT_EQ(Restarts(*p, "crash"), 0);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(LifecycleTest, MaxWorkerAgeRecyclesInSocketModeWithNoFailedRequest) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=2", "--max-worker-age=3s",
                "--max-worker-age-jitter=2s", "--drain-delay=0s"},
       .env = {{"LEAK_KB", "0"}},
       .binary = CORRAL_BIN,
       .command = {"node", kLeakyApp}});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  LoadUntilRecycled(*p, Steady(*p, 20, 0), 4);
  for (const auto& line : p->LogsWithMsg("recycling worker")) {
    EXPECT_EQ(line["reason"], "max_age") << line.dump();
  }
  EXPECT_GE(Restarts(*p, "max_age"), 4);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(LifecycleTest, SocketModeRefusesMaxRequestsClearly) {
  auto p = CorralProcess::Start({.args = {"--max-requests=100"},
                                 .binary = CORRAL_BIN,
                                 .command = {"node", kLeakyApp}});
  EXPECT_EQ(p->WaitExit(10s), 2) << p->Logs();
  EXPECT_NE(p->Logs().find("--max-requests needs --proxy"), std::string::npos)
      << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
