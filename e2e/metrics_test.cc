// Metrics are exact across processes: checked against live scrapes, a crash,
// rolls, promtool and a real Prometheus server.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>

#include "harness.h"
#include "prometheus_server.h"

namespace corral::e2e {
namespace {

std::map<std::string, double> Scrape(const CorralProcess& p) {
  HttpResult r = HttpGet(p.admin_port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["Content-Type"],
            "text/plain; version=0.0.4; charset=utf-8");
  return ParseExposition(r.body);
}

int SendProductGets(const CorralProcess& p, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    ok +=
        HttpGet(p.port(), "/products/" + std::to_string(1 + i % 500)).status ==
        200;
  }
  return ok;
}

std::string RunCapture(const std::string& cmd, const std::string& input,
                       int* exit_code) {
  std::string in_path = std::filesystem::temp_directory_path() /
                        ("corral-metrics-in-" + std::to_string(getpid()));
  std::ofstream(in_path) << input;
  FILE* f = popen((cmd + " < " + in_path + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int status = pclose(f);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove(in_path);
  return out;
}

TEST(MetricsTest, ActiveRequestsCountsWhatIsReallyInFlight) {
  constexpr int kSlow = 5;
  auto p = CorralProcess::Start(
      {.args = {"--workers=2"}, .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  EXPECT_EQ(Scrape(*p)["http_server_active_requests"], 0);
  // Held open until the test releases them: 4 s is long enough to be seen.
  std::vector<std::future<HttpResult>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::async(std::launch::async, [&]() {
      return HttpPost(p->port(), "/fault/slow?ms=4000", "{}");
    }));
  }
  ASSERT_TRUE(PollUntil(
      [&]() { return Scrape(*p)["http_server_active_requests"] == kSlow; }, 3s))
      << "active requests never reached " << kSlow;
  auto m = Scrape(*p);
  EXPECT_EQ(Sum(m, "corral_worker_active_requests"), kSlow);
  // Each held request holds a connection too (counted with the heartbeat).
  EXPECT_TRUE(PollUntil(
      [&]() { return Sum(Scrape(*p), "corral_worker_connections") >= kSlow; },
      3s));
  for (auto& f : slow) EXPECT_EQ(f.get().status, 200);
  m = Scrape(*p);
  EXPECT_EQ(m["http_server_active_requests"], 0);
  EXPECT_EQ(m["http_server_request_duration_seconds_count{http_request_method="
              "\"POST\",http_response_status_code=\"200\",http_route=\"/"
              "fault/slow\"}"],
            kSlow);
}

TEST(MetricsTest, CountersSurviveCrashesAndRollsExactly) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  const std::string ok_series =
      "http_server_request_duration_seconds_count{http_request_method="
      "\"GET\",http_response_status_code=\"200\",http_route=\"/products/"
      "{id}\"}";
  ASSERT_EQ(SendProductGets(*p, 200), 200);
  auto before = Scrape(*p);
  EXPECT_EQ(before[ok_series], 200);

  // A worker dies: what it counted stays.
  kill(p->ChildPids().front(), SIGKILL);
  ASSERT_TRUE(p->WaitForLog("worker died unexpectedly", 1, 10s));
  // Both workers ready again before the rolls, so each roll replaces two.
  ASSERT_TRUE(PollUntil(
      [&]() {
        auto m = Scrape(*p);
        return m["corral_workers{state=\"ready\"}"] == 2 &&
               m["corral_workers{state=\"starting\"}"] == 0;
      },
      20s));
  auto after_crash = Scrape(*p);
  EXPECT_EQ(after_crash[ok_series], 200);
  for (const auto& [series, v] : before) {
    if (series.rfind("http_server_request", 0) == 0) {
      EXPECT_GE(after_crash[series], v) << series;
    }
  }
  EXPECT_EQ(after_crash["corral_worker_restarts_total{reason=\"crash\"}"], 1);

  ASSERT_EQ(SendProductGets(*p, 100), 100);
  for (int i = 1; i <= 5; ++i) {
    p->Signal(SIGHUP);
    ASSERT_TRUE(p->WaitForLog("roll finished", i, 30s)) << p->Logs();
    ASSERT_EQ(SendProductGets(*p, 20), 20);
  }
  // Retired workers have exited by the time their successors' drains end.
  ASSERT_TRUE(PollUntil(
      [&]() { return Scrape(*p)["corral_workers{state=\"draining\"}"] == 0; },
      30s));
  auto after_rolls = Scrape(*p);
  EXPECT_EQ(after_rolls[ok_series], 200 + 100 + 5 * 20);
  EXPECT_EQ(after_rolls["http_server_request_duration_seconds_bucket{http_"
                        "request_method=\"GET\",http_response_status_code="
                        "\"200\",http_route=\"/products/{id}\",le=\"+Inf\"}"],
            400);
  EXPECT_GT(after_rolls["http_server_request_duration_seconds_sum{http_"
                        "request_method=\"GET\",http_response_status_code="
                        "\"200\",http_route=\"/products/{id}\"}"],
            0);
  for (const auto& [series, v] : after_crash) {
    if (series.rfind("http_server_request", 0) == 0) {
      EXPECT_GE(after_rolls[series], v) << series;
    }
  }
  EXPECT_EQ(after_rolls["corral_rollouts_total{result=\"success\"}"], 5);
  EXPECT_EQ(after_rolls["corral_worker_restarts_total{reason=\"roll\"}"], 10);
  EXPECT_EQ(after_rolls["corral_rollout_duration_seconds_count"], 5);
  EXPECT_EQ(after_rolls["corral_workers{state=\"ready\"}"], 2);

  // /status tells the same story.
  auto status = nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body);
  EXPECT_EQ(status["state"], "serving");
  EXPECT_EQ(status["last_roll"]["result"], "success");
  ASSERT_EQ(status["workers"].size(), 2u);
  for (const auto& w : status["workers"]) {
    for (const char* key :
         {"slot", "pid", "state", "started_at", "requests_served", "in_flight",
          "heartbeat_age_seconds", "generation"}) {
      EXPECT_TRUE(w.contains(key)) << key;
    }
  }
}

TEST(MetricsTest, PromtoolAcceptsALiveScrape) {
  auto p = CorralProcess::Start(
      {.args = {"--workers=2"}, .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  SendProductGets(*p, 10);
  HttpGet(p->port(), "/nowhere");
  HttpPost(p->port(), "/checkout", "{bad json");
  p->Signal(SIGHUP);
  ASSERT_TRUE(p->WaitForLog("roll finished", 1, 30s));
  std::string text = HttpGet(p->admin_port(), "/metrics").body;
  // OpenTelemetry's HTTP label names, and no counter that repeats _count.
  EXPECT_EQ(text.find("http_server_requests_total"), std::string::npos);
  int request_series = 0;
  for (const auto& [series, v] : ParseExposition(text)) {
    if (series.rfind("http_server_request_duration_seconds", 0) != 0) continue;
    ++request_series;
    for (const char* label :
         {"{http_request_method=\"", ",http_response_status_code=\"",
          ",http_route=\""}) {
      EXPECT_NE(series.find(label), std::string::npos) << series;
    }
  }
  EXPECT_GT(request_series, 0);
  int code = -1;
  std::string out = RunCapture("promtool check metrics", text, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << "promtool complained";
}

TEST(MetricsTest, RealPrometheusSeesEveryRequest) {
  auto p = CorralProcess::Start({.args = {"--workers=2"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  constexpr int kRequests = 321;
  ASSERT_EQ(SendProductGets(*p, kRequests), kRequests);

  PrometheusServer prometheus(p->admin_port());
  double seen = -1;
  bool found = PollUntil(
      [&]() {
        auto result =
            prometheus.Query("sum(http_server_request_duration_seconds_count)");
        if (!result || result->empty()) return false;
        seen = std::stod((*result)[0]["value"][1].get<std::string>());
        return seen == kRequests;
      },
      60s);
  EXPECT_TRUE(found) << "Prometheus saw " << seen << "\n" << prometheus.Log();
}

}  // namespace
}  // namespace corral::e2e
