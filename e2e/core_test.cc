// The core promises, checked against the real binary as PID 1 of its own PID
// namespace: worker count, every worker serving, crash replacement, reaping,
// probes, errors, flags and the healthcheck subcommand.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "harness.h"

namespace corral::e2e {
namespace {

bool IsZombie(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  size_t close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
         stat[close_paren + 2] == 'Z';
}

// Sends raw bytes and returns whatever comes back before the peer closes.
std::string RawExchange(uint16_t port, const std::string& bytes) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!write(fd, bytes.data(), bytes.size());
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string RunCapture(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int status = pclose(f);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(CoreTest, MasterIsPid1WithOneWorkerPerCpuAsked) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto listening = p->LogsWithMsg("listening");
  ASSERT_EQ(listening.size(), 1u);
  EXPECT_EQ(listening[0]["pid"], 1);
  EXPECT_EQ(listening[0]["pid1"], true);
  EXPECT_EQ(listening[0]["role"], "master");
  EXPECT_EQ(p->ChildPids().size(), 2u);
  auto count = p->LogsWithMsg("worker count");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0]["workers"], 2);
  EXPECT_EQ(count[0]["how"], "set by --workers");
  // Workers log as workers, with their index.
  auto ready = p->LogsWithMsg("worker started serving");
  std::set<int> indexes;
  for (const auto& line : ready) {
    if (line["role"] == "worker") indexes.insert(line["worker"].get<int>());
  }
  EXPECT_EQ(indexes, (std::set<int>{0, 1}));
  auto status = nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body);
  EXPECT_EQ(status["state"], "serving");
  EXPECT_EQ(status["workers"].size(), 2u);
}

TEST(CoreTest, AutoWorkerCountFollowsTheCpusAndSaysHow) {
  auto p = CorralProcess::Start({});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto count = p->LogsWithMsg("worker count");
  ASSERT_EQ(count.size(), 1u);
  int expected = count[0]["cpus_detected"].get<int>();
  EXPECT_GE(expected, 1);
  EXPECT_LE(expected, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(count[0]["workers"], expected);
  EXPECT_NE(count[0]["how"].get<std::string>().find("affinity"),
            std::string::npos);
  EXPECT_EQ(p->ChildPids().size(), static_cast<size_t>(expected));
}

TEST(CoreTest, EveryWorkerServesFromTheSharedListener) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::set<std::string> served_by;
  ASSERT_TRUE(PollUntil(
      [&]() {
        HttpResult r = HttpGet(p->port(), "/products/1");
        if (r.status == 200) served_by.insert(r.headers["X-Worker-Pid"]);
        return served_by.size() == 2;
      },
      30s))
      << "only " << served_by.size() << " worker(s) answered";
  HttpResult r = HttpGet(p->port(), "/products/1");
  ASSERT_EQ(r.status, 200);
  auto product = nlohmann::json::parse(r.body);
  EXPECT_EQ(product["id"], 1);
  EXPECT_TRUE(product.contains("name"));
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
}

TEST(CoreTest, KilledWorkerIsReplaced) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::vector<pid_t> before = p->ChildPids();
  ASSERT_EQ(before.size(), 2u);
  kill(before[0], SIGKILL);
  ASSERT_TRUE(p->WaitForLog("worker died unexpectedly", 1, 10s)) << p->Logs();
  ASSERT_TRUE(PollUntil(
      [&]() {
        auto now = p->ChildPids();
        return now.size() == 2 &&
               std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      20s));
  ASSERT_TRUE(p->WaitForLog("worker ready", 3, 20s)) << p->Logs();
  auto died = p->LogsWithMsg("worker died unexpectedly");
  EXPECT_EQ(died[0]["exit"], "killed by SIGKILL");
  EXPECT_EQ(died[0]["reason"], "crash");
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
  EXPECT_EQ(p->ProbeStatus("/livez"), 200);
  EXPECT_EQ(HttpGet(p->port(), "/products/2").status, 200);
}

void ExpectOrphanReaped(CorralProcess& p) {
  ASSERT_TRUE(p.WaitReady()) << p.Logs();
  HttpResult r = HttpPost(p.port(), "/fault/orphan", "{}");
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  pid_t orphan = nlohmann::json::parse(r.body)["orphan_pid"].get<pid_t>();
  ASSERT_TRUE(p.WaitForLog("reaped orphaned process", 1, 10s)) << p.Logs();
  auto reaped = p.LogsWithMsg("reaped orphaned process");
  EXPECT_EQ(reaped[0]["child_pid"], orphan);
  EXPECT_EQ(reaped[0]["exit"], "exited with code 0");
  // No zombie is left among the master's children.
  for (pid_t child : p.ChildPids()) EXPECT_FALSE(IsZombie(child)) << child;
}

TEST(CoreTest, OrphanedGrandchildIsReapedByPid1) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1"}, .env = {{"SHOP_FAULTS", "1"}}});
  ExpectOrphanReaped(*p);
}

TEST(CoreTest, OrphanedGrandchildIsReapedBySubreaperWhenNotPid1) {
  auto p = CorralProcess::Start({.args = {"--workers=1"},
                                 .env = {{"SHOP_FAULTS", "1"}},
                                 .pid_namespace = false});
  ExpectOrphanReaped(*p);
}

void ExpectNothingOutlivesTheMaster(CorralProcess& p) {
  ASSERT_TRUE(p.WaitReady()) << p.Logs();
  HttpResult r = HttpPost(p.port(), "/fault/orphan?ms=600000", "{}");
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  pid_t ns_pid = nlohmann::json::parse(r.body)["orphan_pid"].get<pid_t>();
  std::optional<pid_t> orphan;
  ASSERT_TRUE(PollUntil(
      [&]() { return (orphan = p.HostPid(ns_pid)).has_value(); }, 10s))
      << "the orphan was not reparented to the master";
  p.Signal(SIGTERM);
  std::optional<int> code = p.WaitExit(30s);
  ASSERT_TRUE(code.has_value()) << p.Logs();
  EXPECT_EQ(*code, 0) << p.Logs();
  EXPECT_NE(kill(*orphan, 0), 0)
      << "orphan " << *orphan << " outlived the master";
  EXPECT_EQ(p.LogsWithMsg("ended processes left behind by workers").size(), 1u);
}

TEST(CoreTest, NoOrphanOutlivesThePid1) {
  auto p = CorralProcess::Start({.args = {"--workers=1", "--drain-delay=0s"},
                                 .env = {{"SHOP_FAULTS", "1"}}});
  ExpectNothingOutlivesTheMaster(*p);
}

TEST(CoreTest, NoOrphanOutlivesTheSubreaper) {
  auto p = CorralProcess::Start({.args = {"--workers=1", "--drain-delay=0s"},
                                 .env = {{"SHOP_FAULTS", "1"}},
                                 .pid_namespace = false});
  ExpectNothingOutlivesTheMaster(*p);
}

TEST(CoreTest, ProbesBeforeAndAfterReady) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  EXPECT_EQ(p->ProbeStatus("/livez"), 200);
  EXPECT_EQ(p->ProbeStatus("/startupz"), 200);
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
  EXPECT_EQ(p->ProbeStatus("/nope"), 404);
}

TEST(CoreTest, CrashLoopFailsLivenessAndReadiness) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("corral-faults-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/fail-start") << "1";
  auto p = CorralProcess::Start(
      {.args = {"--workers=1", "--crash-loop-limit=2"},
       .env = {{"SHOP_FAULTS", "1"}, {"SHOP_FAULTS_DIR", dir}}});
  ASSERT_TRUE(PollUntil([&]() { return p->ProbeStatus("/livez") == 503; }, 20s))
      << p->Logs();
  EXPECT_EQ(p->ProbeStatus("/readyz"), 503);
  EXPECT_EQ(p->ProbeStatus("/startupz"), 503);
  auto failed =
      p->LogsWithMsg("app start-up check failed; this worker will not serve");
  EXPECT_GE(failed.size(), 2u);
  // The fault clears: the next restart comes up and the pod recovers.
  std::filesystem::remove(dir + "/fail-start");
  EXPECT_TRUE(p->WaitReady(60s)) << p->Logs();
  EXPECT_EQ(p->ProbeStatus("/livez"), 200);
  std::filesystem::remove_all(dir);
}

TEST(CoreTest, ErrorsAreJsonWithTheRightStatus) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  struct Case {
    std::string name;
    HttpResult result;
    int status;
  };
  std::vector<Case> cases = {
      {"unknown product", HttpGet(p->port(), "/products/999999"), 404},
      {"bad id", HttpGet(p->port(), "/products/abc"), 400},
      {"no route", HttpGet(p->port(), "/nowhere"), 404},
      {"malformed json", HttpPost(p->port(), "/checkout", "{not json"), 400},
      {"unknown product in cart",
       HttpPost(p->port(), "/checkout",
                R"({"items":[{"id":999999,"quantity":1}]})"),
       404},
      {"oversize body",
       HttpPost(p->port(), "/checkout", std::string(200 * 1024, 'x')), 413},
      {"wrong method", HttpPost(p->port(), "/products/1", "{}"), 405},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.result.status, c.status) << c.name << ": " << c.result.error;
    auto j = nlohmann::json::parse(c.result.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << c.name << ": " << c.result.body;
    EXPECT_EQ(j["status"], c.status) << c.name;
    EXPECT_TRUE(j["error"].is_string()) << c.name;
  }
  std::string raw = RawExchange(p->port(), "GARBAGE\x01 / HTTP/9\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
  // The worker is unharmed by all of it.
  EXPECT_EQ(HttpGet(p->port(), "/products/3").status, 200);
}

TEST(CoreTest, SlowAndOversizeClientsGetClearErrors) {
  auto p =
      CorralProcess::Start({.args = {"--workers=1", "--request-timeout=1s"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  // Half a request, then silence: the server answers 408 and closes.
  std::string slow =
      RawExchange(p->port(), "GET /products/1 HTTP/1.1\r\nHost: x");
  EXPECT_EQ(slow.rfind("HTTP/1.1 408", 0), 0u) << slow;
  EXPECT_NE(slow.find("Connection: close"), std::string::npos) << slow;
  // A header block past the limit.
  std::string huge = RawExchange(
      p->port(),
      "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(huge.rfind("HTTP/1.1 431", 0), 0u) << huge.substr(0, 200);
  // A declared body past --max-body is refused before it is read.
  std::string big = RawExchange(
      p->port(),
      "POST /checkout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 10000000\r\n\r\n{");
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big.substr(0, 200);
  EXPECT_EQ(HttpGet(p->port(), "/products/1").status, 200);
}

TEST(CoreTest, CheckoutWaitsOnPaymentWithoutBlockingTheLoop) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  HttpResult r =
      HttpPost(p->port(), "/checkout",
               R"({"items":[{"id":1,"quantity":2},{"id":5,"quantity":1}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["payment"], "approved");
  EXPECT_EQ(j["lines"].size(), 2u);
  EXPECT_GT(j["total_cents"].get<int64_t>(), 0);
}

TEST(CoreTest, HelpAndBadFlags) {
  int code = -1;
  std::string help =
      RunCapture(std::string(CORRAL_SHOP_BIN) + " --help", &code);
  EXPECT_EQ(code, 0);
  for (const char* s : {"--listen", "--admin", "--workers", "--drain-delay",
                        "CORRAL_WORKERS", "healthcheck"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
  std::string err =
      RunCapture(std::string(CORRAL_SHOP_BIN) + " --workers=lots 2>&1", &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("--workers"), std::string::npos) << err;
}

TEST(CoreTest, PortInUseIsAClearError) {
  auto first = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(first->WaitReady()) << first->Logs();
  int code = -1;
  std::string out =
      RunCapture(std::string(CORRAL_SHOP_BIN) +
                     " --listen=127.0.0.1:" + std::to_string(first->port()) +
                     " --admin=127.0.0.1:0 2>&1",
                 &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(
      out.find("cannot listen on 127.0.0.1:" + std::to_string(first->port())),
      std::string::npos)
      << out;
}

TEST(CoreTest, HealthcheckSubcommand) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  int code = -1;
  std::string bin = CORRAL_SHOP_BIN;
  RunCapture(bin + " healthcheck http://127.0.0.1:" +
                 std::to_string(p->admin_port()) + "/readyz 2>&1",
             &code);
  EXPECT_EQ(code, 0);
  RunCapture("CORRAL_ADMIN=127.0.0.1:" + std::to_string(p->admin_port()) + " " +
                 bin + " healthcheck 2>&1",
             &code);
  EXPECT_EQ(code, 0) << "default URL follows CORRAL_ADMIN";
  std::string out = RunCapture(bin + " healthcheck http://127.0.0.1:" +
                                   std::to_string(FreePort()) + "/readyz 2>&1",
                               &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("healthcheck"), std::string::npos) << out;
  RunCapture(bin + " healthcheck http://127.0.0.1:" +
                 std::to_string(p->admin_port()) + "/nope 2>&1",
             &code);
  EXPECT_EQ(code, 1) << "a 404 is not healthy";
}

}  // namespace
}  // namespace corral::e2e

namespace corral::e2e {
namespace {

TEST(CoreTest, HandlerExceptionIsLoggedWithRouteAndAnswered500) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1"}, .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  HttpResult r = HttpPost(p->port(), "/fault/throw", "{}");
  EXPECT_EQ(r.status, 500) << r.body;
  ASSERT_TRUE(p->WaitForLog("handler threw; answered 500", 1, 10s))
      << p->Logs();
  auto line = p->LogsWithMsg("handler threw; answered 500")[0];
  EXPECT_EQ(line["route"], "/fault/throw");
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["error"], "fault injection: the handler threw");
  // The worker lives on and serves.
  EXPECT_EQ(HttpGet(p->port(), "/products/1").status, 200);
  EXPECT_TRUE(p->LogsWithMsg("worker died unexpectedly").empty());
}

TEST(CoreTest, AWorkerKilledByAnUncaughtExceptionSaysWhatAndIsReplaced) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=1"}, .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  HttpPost(p->port(), "/fault/throw-outside", "{}");
  ASSERT_TRUE(p->WaitForLog("worker terminating: uncaught exception", 1, 10s))
      << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("worker terminating: uncaught exception")[0]["error"],
            "fault injection: thrown outside a handler");
  ASSERT_TRUE(p->WaitForLog("worker died unexpectedly", 1, 10s)) << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("worker died unexpectedly")[0]["exit"],
            "killed by SIGABRT");
  EXPECT_TRUE(PollUntil(
      [&] { return HttpGet(p->port(), "/products/1").status == 200; }, 20s));
}

}  // namespace
}  // namespace corral::e2e

namespace corral::e2e {
namespace {

TEST(CoreTest, AccessLogIsOneLinePerRequestWhenAskedFor) {
  auto quiet = CorralProcess::Start({.args = {"--workers=1"}});
  auto logged = CorralProcess::Start({.args = {"--workers=1", "--access-log"}});
  ASSERT_TRUE(quiet->WaitReady()) << quiet->Logs();
  ASSERT_TRUE(logged->WaitReady()) << logged->Logs();
  for (auto* p : {quiet.get(), logged.get()}) {
    EXPECT_EQ(HttpGet(p->port(), "/products/7").status, 200);
    EXPECT_EQ(HttpGet(p->port(), "/nope").status, 404);
  }
  ASSERT_TRUE(logged->WaitForLog("request", 2, 10s)) << logged->Logs();
  auto lines = logged->LogsWithMsg("request");
  EXPECT_EQ(lines[0]["method"], "GET");
  EXPECT_EQ(lines[0]["path"], "/products/7");
  EXPECT_EQ(lines[0]["route"], "/products/{id}");
  EXPECT_EQ(lines[0]["status"], 200);
  EXPECT_GE(lines[0]["duration_seconds"].get<double>(), 0);
  EXPECT_EQ(lines[0]["role"], "worker");
  EXPECT_EQ(lines[1]["status"], 404);
  EXPECT_EQ(lines[1]["route"], "unmatched");
  EXPECT_TRUE(quiet->LogsWithMsg("request").empty()) << "off by default";
}

}  // namespace
}  // namespace corral::e2e
