// Zero dropped requests: SIGTERM drains and SIGHUP rolls under real load, with
// the kubelet's side played by the test (probes, endpoint removal, deadlines).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "expect_load.h"
#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

// 3 GETs of a product to 1 checkout, as a store's traffic looks.
RequestSpec ShopMix(uint64_t n) {
  if (n % 4 == 3) {
    return {"POST", "/checkout",
            R"({"items":[{"id":)" + std::to_string(1 + n % 50) +
                R"(,"quantity":1},{"id":7,"quantity":2}]})"};
  }
  return {"GET", "/products/" + std::to_string(1 + n % 500), ""};
}

LoadOptions ShopLoad(uint16_t port, int connections) {
  LoadOptions o;
  o.port = port;
  o.connections = connections;
  o.next = ShopMix;
  return o;
}

int64_t InFlight(const CorralProcess& p) {
  auto status = nlohmann::json::parse(HttpGet(p.admin_port(), "/status").body,
                                      nullptr, false);
  if (status.is_discarded()) return -1;
  int64_t sum = 0;
  for (const auto& w : status["workers"]) sum += w["in_flight"].get<int64_t>();
  return sum;
}

TEST(DrainTest, TwentyRollsUnderLoadLoseNothing) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  LoadClient load(ShopLoad(p->port(), 200));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(2000, 30s)) << load.Counts().ToString();
  std::set<int> worker_pids_seen;
  for (int i = 1; i <= 20; ++i) {
    p->Signal(SIGHUP);
    ASSERT_TRUE(p->WaitForLog("roll finished", i, 60s)) << "roll " << i << "\n"
                                                        << p->Logs();
    // The pod stays in service throughout a roll.
    EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
  }
  uint64_t before_stop = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(before_stop + 1000, 30s));
  StopAndExpectNoFailures(load);
  for (const auto& line : p->LogsWithMsg("roll finished")) {
    EXPECT_EQ(line["result"], "success") << line.dump();
  }
  EXPECT_TRUE(
      p->LogsWithMsg("roll aborted; the remaining old workers keep serving")
          .empty());
  // Every roll replaced both workers: 2 initial + 40 replacements started.
  EXPECT_EQ(p->LogsWithMsg("worker started").size(), 42u);
}

TEST(DrainTest, SigtermUnderLoadDrainsEverythingAndExitsZero) {
  constexpr int kDelayMs = 2000;
  constexpr int kSlowMs = 3000;
  auto p = CorralProcess::Start(
      {.args = {"--workers=2",
                "--drain-delay=" + std::to_string(kDelayMs) + "ms",
                "--drain-timeout=20s"},
       .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  LoadClient load(ShopLoad(p->port(), 200));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(2000, 30s)) << load.Counts().ToString();

  // Slow checkouts in flight when SIGTERM lands must still complete.
  std::vector<std::future<HttpResult>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::async(std::launch::async, [&]() {
      return HttpPost(p->port(), "/fault/slow?ms=" + std::to_string(kSlowMs),
                      "{}");
    }));
  }
  ASSERT_TRUE(PollUntil([&]() { return InFlight(*p) >= 4; }, 10s));

  auto sigterm_at = std::chrono::steady_clock::now();
  // The endpoint is removed as SIGTERM is sent: kube-proxy sends no new
  // connections, existing ones keep flowing until the server closes them.
  load.SetReconnect(false);
  p->Signal(SIGTERM);
  EXPECT_TRUE(
      PollUntil([&]() { return p->ProbeStatus("/readyz") == 503; }, 5s));
  EXPECT_EQ(p->ProbeStatus("/livez"), 200) << "a drain is no liveness failure";

  // The kubelet's deadline: delay + the longest request + 1 s.
  auto deadline = std::chrono::milliseconds(kDelayMs + kSlowMs + 1000);
  std::optional<int> code =
      p->WaitExit(std::chrono::duration_cast<std::chrono::milliseconds>(
          sigterm_at + deadline - std::chrono::steady_clock::now()));
  ASSERT_TRUE(code.has_value()) << "not done by the deadline\n" << p->Logs();
  EXPECT_EQ(*code, 0) << p->Logs();
  for (auto& f : slow) {
    HttpResult r = f.get();
    EXPECT_EQ(r.status, 200) << r.error;
  }
  StopAndExpectNoFailures(load);
  // Traffic was served during the delay, after SIGTERM.
  EXPECT_TRUE(
      p->WaitForLog("drain delay over: workers stop accepting and "
                    "finish in-flight requests",
                    1, 1s));
  EXPECT_EQ(p->LogsWithMsg("worker drained, exiting").size(), 2u);
}

// The default, --readiness-at-term=serve: Kubernetes marks the endpoint not
// ready itself; a probe that stays up keeps kube-proxy's fallback to
// serving-and-terminating endpoints (docs/kubernetes.md).
TEST(DrainTest, ReadinessStaysUpThroughTheDrainDelayByDefault) {
  auto p =
      CorralProcess::Start({.args = {"--workers=1", "--drain-delay=300s"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  p->Signal(SIGTERM);
  ASSERT_TRUE(p->WaitForLog(
      "shutting down: readiness stays up and workers serve on through the "
      "drain delay",
      1, 10s))
      << p->Logs();
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
  EXPECT_EQ(HttpGet(p->port(), "/products/1").status, 200);
  // The delay ends (a second signal): now nothing is accepted, and
  // readiness says so.
  p->Signal(SIGTERM);
  ASSERT_TRUE(
      PollUntil([&]() { return p->ProbeStatus("/readyz") != 200; }, 10s));
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

// Reads one answer's status line from a blocking socket, or "" when the
// connection was reset or closed first.
std::string ReadStatusLine(int fd) {
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string got;
  char buf[4096];
  while (got.find("\r\n") == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return "";
    got.append(buf, static_cast<size_t>(n));
  }
  return got.substr(0, got.find("\r\n"));
}

// Connections the kernel queued on the listening socket while the only
// worker was stuck in a handler, after its drain had begun: when it comes
// back, it serves them before it lets go of the socket. (Asio runs the
// listener's wake-up before the signal's handler here, so this held before
// Listener::TakeQueued too; the sweep covers a drain that comes first.)
TEST(DrainTest, ConnectionsQueuedWhenTheDrainEndsAreServed) {
  constexpr int kQueued = 50;
  auto p = CorralProcess::Start(
      {.args = {"--workers=1", "--drain-delay=0s", "--drain-timeout=30s"},
       .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto blocked = std::async(std::launch::async, [&]() {
    return HttpPost(p->port(), "/fault/block?ms=3000", "{}");
  });
  ASSERT_TRUE(PollUntil([&]() { return InFlight(*p) >= 1; }, 10s));
  p->Signal(SIGTERM);
  ASSERT_TRUE(p->WaitForLog(
      "drain delay over: workers stop accepting and finish in-flight "
      "requests",
      1, 10s))
      << p->Logs();
  // The worker has its SIGTERM but is stuck: these wait in the queue.
  std::vector<int> fds;
  for (int i = 0; i < kQueued; ++i) {
    int fd = ConnectLoopback(p->port());
    ASSERT_GE(fd, 0) << "connect " << i;
    const std::string req = "GET /products/" + std::to_string(i + 1) +
                            " HTTP/1.1\r\nHost: shop\r\n\r\n";
    ASSERT_EQ(write(fd, req.data(), req.size()),
              static_cast<ssize_t>(req.size()));
    fds.push_back(fd);
  }
  int answered = 0;
  for (int fd : fds) {
    std::string status = ReadStatusLine(fd);
    EXPECT_EQ(status, "HTTP/1.1 200 OK");
    answered += status == "HTTP/1.1 200 OK";
    close(fd);
  }
  EXPECT_EQ(answered, kQueued) << p->Logs();
  EXPECT_EQ(blocked.get().status, 200);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

// Once the last worker has stopped accepting, a new connection must not sit
// in a queue nobody accepts from until the master exits and resets it: it
// is refused at once (the pod's endpoint is gone by then), or served.
TEST(DrainTest, NoConnectionWaitsInAQueueNobodyServes) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1", "--drain-delay=0s", "--drain-timeout=30s"},
       .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto slow = std::async(std::launch::async, [&]() {
    return HttpPost(p->port(), "/fault/slow?ms=3000", "{}");
  });
  ASSERT_TRUE(PollUntil([&]() { return InFlight(*p) >= 1; }, 10s));
  p->Signal(SIGTERM);
  ASSERT_TRUE(p->WaitForLog(
      "draining: stopped accepting, finishing in-flight requests", 1, 10s))
      << p->Logs();
  // The worker still finishes its slow request: corral is still running.
  int fd = ConnectLoopback(p->port());
  if (fd >= 0) {
    const std::string req = "GET /products/1 HTTP/1.1\r\nHost: shop\r\n\r\n";
    ASSERT_EQ(write(fd, req.data(), req.size()),
              static_cast<ssize_t>(req.size()));
    EXPECT_EQ(ReadStatusLine(fd), "HTTP/1.1 200 OK")
        << "accepted into the queue, then reset\n"
        << p->Logs();
    close(fd);
  }
  EXPECT_EQ(slow.get().status, 200);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(DrainTest, SecondSignalSkipsTheDelay) {
  auto p = CorralProcess::Start({.args = {"--workers=1", "--drain-delay=300s",
                                          "--readiness-at-term=fail"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  p->Signal(SIGINT);
  ASSERT_TRUE(
      PollUntil([&]() { return p->ProbeStatus("/readyz") == 503; }, 5s));
  EXPECT_EQ(HttpGet(p->port(), "/products/1").status, 200) << "still serving";
  p->Signal(SIGTERM);
  std::optional<int> code = p->WaitExit(60s);
  ASSERT_TRUE(code.has_value()) << p->Logs();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(p->LogsWithMsg(
                 "second shutdown signal: skipping the rest of the drain delay")
                .size(),
            1u);
}

TEST(DrainTest, StragglerIsKilledAtTheDrainTimeoutAndExitCodeSaysSo) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1", "--drain-delay=0s", "--drain-timeout=1s"},
       .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto slow = std::async(std::launch::async, [&]() {
    return HttpPost(p->port(), "/fault/slow?ms=60000", "{}");
  });
  ASSERT_TRUE(PollUntil([&]() { return InFlight(*p) >= 1; }, 10s));
  p->Signal(SIGTERM);
  std::optional<int> code = p->WaitExit(30s);
  ASSERT_TRUE(code.has_value()) << p->Logs();
  EXPECT_EQ(*code, 1);
  EXPECT_EQ(
      p->LogsWithMsg("worker still busy at --drain-timeout; killed").size(),
      1u);
  EXPECT_EQ(slow.get().status, 0) << "the killed request got no answer";
}

TEST(DrainTest, HungWorkerIsReplacedAndTheOthersKeepServing) {
  auto p = CorralProcess::Start({.args = {"--workers=2", "--worker-timeout=2s"},
                                 .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto hung = std::async(std::launch::async, [&]() {
    return HttpPost(p->port(), "/fault/hang", "{}");
  });
  ASSERT_TRUE(PollUntil([&]() { return InFlight(*p) >= 1; }, 10s));
  // While one loop spins, the other worker takes every new connection.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(HttpGet(p->port(), "/products/" + std::to_string(i + 1)).status,
              200);
  }
  ASSERT_TRUE(
      p->WaitForLog("worker stopped making progress (no heartbeat)", 1, 30s))
      << p->Logs();
  auto line =
      p->LogsWithMsg("worker stopped making progress (no heartbeat)")[0];
  EXPECT_EQ(line["serving_path"], "/fault/hang");
  // A loop in the app's own code: on a CPU, in no system call.
  EXPECT_EQ(line["process"]["state"], "R") << line;
  EXPECT_EQ(line["process"]["syscall"], "running") << line;
  ASSERT_TRUE(p->WaitForLog("worker killed after --worker-timeout", 1, 30s))
      << p->Logs();
  EXPECT_EQ(hung.get().status, 0);
  ASSERT_TRUE(p->WaitForLog("worker ready", 3, 30s)) << p->Logs();
  EXPECT_EQ(p->ChildPids().size(), 2u);
  auto died = p->LogsWithMsg("worker died unexpectedly");
  ASSERT_EQ(died.size(), 1u);
  EXPECT_EQ(died[0]["reason"], "timeout");
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
}

// A handler stuck in a blocking call: the log says where, from /proc, and
// the stop signal comes before any SIGKILL.
TEST(DrainTest, StuckHandlerLeavesWhereItIsStuckInTheLog) {
  auto p = CorralProcess::Start({.args = {"--workers=2", "--worker-timeout=2s"},
                                 .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto stuck = std::async(std::launch::async, [&]() {
    return HttpPost(p->port(), "/fault/block?ms=60000", "{}");
  });
  ASSERT_TRUE(
      p->WaitForLog("worker stopped making progress (no heartbeat)", 1, 30s))
      << p->Logs();
  auto line =
      p->LogsWithMsg("worker stopped making progress (no heartbeat)")[0];
  EXPECT_EQ(line["serving_path"], "/fault/block");
  const nlohmann::json& proc = line["process"];
  EXPECT_EQ(proc["state"], "S") << line;
  EXPECT_NE(proc["wchan"].get<std::string>().find("sleep"), std::string::npos)
      << line;
  EXPECT_NE(proc["syscall"].get<std::string>().find("nanosleep"),
            std::string::npos)
      << line;
  if (geteuid() == 0) {
    ASSERT_TRUE(proc.contains("kernel_stack")) << line;
    EXPECT_NE(proc["kernel_stack"].dump().find("nanosleep"), std::string::npos)
        << line;
  }
  // The stop signal first, SIGKILL after the grace; then a replacement.
  ASSERT_TRUE(p->WaitForLog("worker killed after --worker-timeout", 1, 30s))
      << p->Logs();
  ASSERT_TRUE(p->WaitForLog("worker ready", 3, 30s)) << p->Logs();
  auto died = p->LogsWithMsg("worker died unexpectedly");
  ASSERT_EQ(died.size(), 1u) << p->Logs();
  EXPECT_EQ(died[0]["reason"], "timeout");
  (void)stuck.get();
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
}

TEST(DrainTest, ReplacementThatCannotStartLeavesOldWorkersServing) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("corral-roll-faults-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto p = CorralProcess::Start(
      {.args = {"--workers=2"},
       .env = {{"SHOP_FAULTS", "1"}, {"SHOP_FAULTS_DIR", dir}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::vector<pid_t> before = p->ChildPids();
  LoadClient load(ShopLoad(p->port(), 100));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(1000, 30s));

  std::ofstream(dir + "/fail-start") << "1";
  p->Signal(SIGHUP);
  ASSERT_TRUE(p->WaitForLog(
      "roll aborted; the remaining old workers keep serving", 1, 30s))
      << p->Logs();
  uint64_t at_abort = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(at_abort + 1000, 30s));
  StopAndExpectNoFailures(load);

  std::vector<pid_t> after = p->ChildPids();
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(before, after) << "the old workers still serve";
  auto status = nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body);
  EXPECT_EQ(status["last_roll"]["result"], "failed");
  EXPECT_EQ(status["state"], "serving");
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
  EXPECT_EQ(p->ProbeStatus("/livez"), 200);

  // Once the fault is fixed, the next roll goes through.
  std::filesystem::remove(dir + "/fail-start");
  p->Signal(SIGHUP);
  ASSERT_TRUE(p->WaitForLog("roll finished", 1, 30s)) << p->Logs();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace corral::e2e
