// --shed-on-lag: a C++ app's worker whose handlers fall behind (a route
// that holds its event loop) answers the lowest class arriving 503 with
// Retry-After while the loop is late, serves the higher classes, keeps
// the connections, and stops once the loop keeps up again. The tests
// count; where they wait, they poll with a deadline.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

std::map<std::string, double> Scrape(const CorralProcess& p) {
  return ParseExposition(HttpGet(p.admin_port(), "/metrics").body);
}

std::unique_ptr<CorralProcess> SpinApp(std::vector<std::string> args) {
  // One worker: one event loop takes the whole load.
  args.push_back("--workers=1");
  args.push_back("--drain-delay=0s");
  return CorralProcess::Start(
      {.args = std::move(args), .binary = CORRAL_SPIN_APP_BIN});
}

// `connections` sending METHOD /spin?ms=MS back to back; a 503 without
// Retry-After, or one that closes its connection, counts in `bad_503`.
LoadOptions Spinning(uint16_t port, int connections, const std::string& method,
                     int ms, std::atomic<uint64_t>* bad_503) {
  LoadOptions o;
  o.port = port;
  o.connections = connections;
  const std::string target = "/spin?ms=" + std::to_string(ms);
  o.next = [method, target](uint64_t) -> RequestSpec {
    return {.method = method,
            .target = target,
            .body = method == "POST" ? "{}" : ""};
  };
  o.on_response = [bad_503](const RequestSpec&, int status, const std::string&,
                            const std::map<std::string, std::string>& h) {
    if (status != 503) return;
    auto connection = h.find("connection");
    if (h.count("retry-after") == 0 ||
        (connection != h.end() && connection->second == "close")) {
      ++*bad_503;
    }
  };
  return o;
}

std::string Ask(int fd, const std::string& request) {
  return AskOn(fd, request, 10);
}

constexpr char kShedSeries[] =
    "corral_shed_total{class=\"normal\",reason=\"loop_lag\"}";
constexpr char kHighShedSeries[] =
    "corral_shed_total{class=\"high\",reason=\"loop_lag\"}";

TEST(LagShedTest, BehindTheWorkerShedsBrowsingAndServesCheckouts) {
  auto p = SpinApp({});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  std::atomic<uint64_t> bad_503{0};

  // The first step: two connections of 5 ms requests; the loop keeps up.
  LoadClient light(Spinning(p->port(), 2, "GET", 5, &bad_503));
  light.Start();
  ASSERT_TRUE(light.WaitForCompleted(200, 60s)) << light.Counts().ToString();
  EXPECT_EQ(light.Counts().non_2xx, 0u) << light.Counts().ToString();
  EXPECT_EQ(Scrape(*p)[kShedSeries], 0);

  // The second step: 32 connections of 20 ms GETs (a turn of the loop
  // would take 640 ms) and two of 10 ms POSTs, high by default.
  LoadClient browse(Spinning(p->port(), 32, "GET", 20, &bad_503));
  LoadClient checkout(Spinning(p->port(), 2, "POST", 10, &bad_503));
  browse.Start();
  checkout.Start();
  ASSERT_TRUE(PollUntil(
      [&] {
        return browse.Counts().non_2xx >= 100 && checkout.Counts().ok >= 200;
      },
      120s))
      << browse.Counts().ToString() << checkout.Counts().ToString()
      << p->Logs();

  // A shed GET's connection stays and serves the next request.
  const int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  std::string shed;
  for (int i = 0; i < 200 && shed.substr(0, 12) != "HTTP/1.1 503"; ++i) {
    shed = Ask(fd, "GET /spin?ms=20 HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_FALSE(shed.empty()) << "connection closed after " << i;
  }
  EXPECT_EQ(shed.substr(0, 12), "HTTP/1.1 503") << shed;
  EXPECT_NE(shed.find("Retry-After: 1\r\n"), std::string::npos) << shed;
  EXPECT_EQ(shed.find("Connection: close"), std::string::npos) << shed;
  const std::string next = Ask(
      fd, "POST /spin?ms=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(next.substr(0, 12), "HTTP/1.1 200") << next;
  close(fd);

  checkout.Stop();
  browse.Stop();
  const LoadCounts c = checkout.Counts();
  const LoadCounts b = browse.Counts();
  RecordProperty("browse_ok", static_cast<int>(b.ok));
  RecordProperty("browse_shed", static_cast<int>(b.non_2xx));
  RecordProperty("checkout_ok", static_cast<int>(c.ok));
  EXPECT_EQ(c.failed(), 0u) << "checkouts shed or failed: " << c.ToString();
  // Browsing is shed while the loop is late, not shut out.
  EXPECT_GT(b.ok, 0u) << b.ToString();
  EXPECT_EQ(b.reset_errors + b.timeouts + b.other_errors, 0u) << b.ToString();
  EXPECT_EQ(bad_503.load(), 0u);
  auto m = Scrape(*p);
  EXPECT_GE(m[kShedSeries], 100);
  EXPECT_EQ(m[kHighShedSeries], 0);
  EXPECT_EQ(m["corral_shed_total{class=\"low\",reason=\"loop_lag\"}"], 0);

  // The load gone, the loop keeps up and nothing more is shed.
  ASSERT_TRUE(PollUntil(
      [&] {
        for (int i = 0; i < 20; ++i) {
          if (HttpGet(p->port(), "/spin?ms=1").status != 200) return false;
        }
        return true;
      },
      30s))
      << p->Logs();
  const uint64_t light_shed = light.Counts().non_2xx;
  const double shed_total = Scrape(*p)[kShedSeries];
  const uint64_t light_done = light.Counts().completed();
  ASSERT_TRUE(light.WaitForCompleted(light_done + 200, 60s));
  EXPECT_EQ(light.Counts().non_2xx, light_shed);
  EXPECT_EQ(Scrape(*p)[kShedSeries], shed_total);
  light.Stop();
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(LagShedTest, WithShedOnLagFalseEveryRequestWaitsItsTurn) {
  auto p = SpinApp({"--shed-on-lag=false"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  std::atomic<uint64_t> bad_503{0};
  LoadClient browse(Spinning(p->port(), 32, "GET", 20, &bad_503));
  browse.Start();
  ASSERT_TRUE(browse.WaitForCompleted(300, 120s)) << browse.Counts().ToString();
  browse.Stop();
  EXPECT_EQ(browse.Counts().non_2xx, 0u) << browse.Counts().ToString();
  EXPECT_EQ(Sum(Scrape(*p), "corral_shed_total"), 0);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
