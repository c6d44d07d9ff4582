// Overload in proxy mode: adaptive concurrency keeps the requests reaching a
// slowed app bounded, higher classes are served while lower ones are shed,
// and a shed answer is a 503 with Retry-After on a connection that stays
// usable. The tests count; where they wait, they poll with a deadline.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>

#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kCapacityApp =
    std::string(CORRAL_E2E_APPS) + "/capacity_app.py";
const std::string kPortApp = std::string(CORRAL_E2E_APPS) + "/port_app.py";

std::map<std::string, double> Scrape(const CorralProcess& p) {
  return ParseExposition(HttpGet(p.admin_port(), "/metrics").body);
}

// The directory that steers capacity_app.py and holds its counts.
class AppControl {
 public:
  AppControl()
      : dir_(fs::temp_directory_path() /
             ("corral-capacity-" + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~AppControl() { fs::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }
  void Set(const std::string& name, const std::string& value) const {
    const fs::path tmp = dir_ / (name + ".tmp");
    std::ofstream(tmp) << value;
    fs::rename(tmp, dir_ / name);
  }
  void ResetMax() { Set("reset", std::to_string(++resets_)); }
  // The most requests the app has held at once since the last reset.
  int Max() const {
    std::ifstream in(dir_ / "max");
    int n = -1;
    in >> n;
    return n;
  }

 private:
  fs::path dir_;
  int resets_ = 0;
};

std::unique_ptr<CorralProcess> Proxy(std::vector<std::string> args,
                                     std::vector<std::string> command) {
  args.insert(args.begin(), "--proxy");
  args.push_back("--drain-delay=0s");
  return CorralProcess::Start({.args = std::move(args),
                               .binary = CORRAL_BIN,
                               .command = std::move(command)});
}

LoadOptions Load(uint16_t port, int connections, const std::string& method) {
  LoadOptions o;
  o.port = port;
  o.connections = connections;
  o.next = [method](uint64_t) -> RequestSpec {
    return {.method = method,
            .target = "/work",
            .body = method == "POST" ? "{}" : ""};
  };
  return o;
}

TEST(OverloadTest, InFlightToASlowedAppStaysBoundedUnderASteppedOverload) {
  // One app process that serves 4 requests at a time, in 20 ms each; 64
  // connections offer far more. With no limit, every one of them would
  // reach the app and wait inside it.
  AppControl app;
  app.Set("slots", "4");
  app.Set("delay_ms", "20");
  // Two proxy workers, as by default on 2 CPUs: every one's answers feed
  // the limit, so the one that owns it cannot starve in a probe while the
  // other holds its places.
  auto p =
      Proxy({"--workers=1", "--proxy-workers=2", "--adaptive-concurrency=true"},
            {"python3", kCapacityApp, app.dir()});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();

  // The first step: 16 connections.
  LoadClient light(Load(p->port(), 16, "GET"));
  light.Start();
  ASSERT_TRUE(light.WaitForCompleted(500, 60s)) << light.Counts().ToString();
  // Within seconds a probe has measured the app and the limit has found
  // its 4 slots (at most 12 once it has).
  ASSERT_TRUE(PollUntil(
      [&] {
        const nlohmann::json app_status = nlohmann::json::parse(
            HttpGet(p->admin_port(), "/status").body)["admission"]["apps"][0];
        return !app_status["min_rtt_seconds"].is_null() &&
               app_status["concurrency_limit"].get<int>() <= 12;
      },
      30s))
      << HttpGet(p->admin_port(), "/status").body;
  // The second step: 48 more, and the app slows to 100 ms a request.
  LoadClient heavy(Load(p->port(), 48, "GET"));
  heavy.Start();
  app.Set("delay_ms", "100");
  // Within seconds a probe has measured the slowed app, the limit has
  // come down to its few places, and what it let in before has drained.
  ASSERT_TRUE(PollUntil(
      [&] {
        const nlohmann::json app_status = nlohmann::json::parse(
            HttpGet(p->admin_port(), "/status").body)["admission"]["apps"][0];
        return !app_status["min_rtt_seconds"].is_null() &&
               app_status["min_rtt_seconds"].get<double>() >= 0.08 &&
               app_status["concurrency_limit"].get<int>() <= 12 &&
               app_status["in_flight"].get<int>() <= 12;
      },
      60s))
      << HttpGet(p->admin_port(), "/status").body;
  app.ResetMax();
  const uint64_t before = light.Counts().ok + heavy.Counts().ok;
  ASSERT_TRUE(PollUntil(
      [&] { return light.Counts().ok + heavy.Counts().ok >= before + 300; },
      120s))
      << light.Counts().ToString() << heavy.Counts().ToString();
  const int slowed_max = app.Max();
  // Faster again: the limit is back above the app's parallelism. (Until
  // the next probe it may let more in than the app holds without a queue:
  // no bound here.)
  app.ResetMax();
  app.Set("delay_ms", "20");
  const uint64_t slow_ok = light.Counts().ok + heavy.Counts().ok;
  ASSERT_TRUE(PollUntil(
      [&] { return light.Counts().ok + heavy.Counts().ok >= slow_ok + 500; },
      120s));
  ASSERT_TRUE(PollUntil(
      [&] { return Sum(Scrape(*p), "corral_app_concurrency_limit") >= 4; },
      30s))
      << HttpGet(p->admin_port(), "/metrics").body;
  const int recovered_max = app.Max();
  heavy.Stop();
  light.Stop();

  RecordProperty("slowed_max", slowed_max);
  RecordProperty("recovered_max", recovered_max);
  // 64 connections, all of which reach the app with no limit; the limit
  // keeps it near its 4 slots (a little more while the limit moves).
  EXPECT_GT(slowed_max, 0);
  EXPECT_LE(slowed_max, 24) << "requests held at once by the slowed app";
  const LoadCounts counts = heavy.Counts();
  EXPECT_EQ(counts.reset_errors + counts.timeouts + counts.other_errors, 0u)
      << counts.ToString();
  auto m = Scrape(*p);
  EXPECT_GT(Sum(m, "corral_proxy_admitted_total"), 0);
  nlohmann::json status =
      nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body);
  ASSERT_EQ(status["admission"]["apps"].size(), 1u) << status.dump();
  EXPECT_TRUE(status["admission"]["adaptive"].get<bool>());
  EXPECT_GE(status["admission"]["apps"][0]["concurrency_limit"].get<int>(), 1);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(OverloadTest, EachAppProcessMinRttIsAGaugeBesideItsLimit) {
  auto p =
      Proxy({"--workers=2", "--proxy-workers=1", "--adaptive-concurrency=true"},
            {"python3", kPortApp});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  LoadOptions o;
  o.port = p->port();
  o.connections = 4;
  LoadClient load(o);
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(200, 60s)) << load.Counts().ToString();
  // Each app process's first probe measures it under this load.
  const std::string kMinRtt = "corral_app_min_rtt_seconds{";
  std::map<std::string, double> m;
  auto measured = [&] {
    int n = 0;
    for (const auto& [series, v] : m) {
      if (series.rfind(kMinRtt, 0) == 0 && v > 0) ++n;
    }
    return n;
  };
  ASSERT_TRUE(PollUntil(
      [&] {
        m = Scrape(*p);
        return measured() == 2;
      },
      30s))
      << HttpGet(p->admin_port(), "/metrics").body;
  load.Stop();
  // One series per app process, labelled as its limit is.
  for (const auto& [series, v] : m) {
    if (series.rfind(kMinRtt, 0) != 0) continue;
    EXPECT_EQ(m.count("corral_app_concurrency_limit{" +
                      series.substr(kMinRtt.size())),
              1u)
        << series;
  }
  nlohmann::json status =
      nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body);
  for (const auto& app : status["admission"]["apps"]) {
    EXPECT_FALSE(app["min_rtt_seconds"].is_null()) << status.dump();
  }
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(OverloadTest, CheckoutsAreServedWhileBrowsingIsShed) {
  // Two places on the app, a queue of 8: 32 browsing connections keep it
  // full, and two connections POST (high by default) throughout. The delay
  // target is long, so only the queue's length sheds.
  AppControl app;
  app.Set("slots", "2");
  app.Set("delay_ms", "20");
  auto p =
      Proxy({"--workers=1", "--proxy-workers=1", "--adaptive-concurrency=false",
             "--app-concurrency=2", "--max-queue=8", "--queue-target=20s"},
            {"python3", kCapacityApp, app.dir()});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  std::atomic<uint64_t> without_retry_after{0};
  LoadOptions browse_options = Load(p->port(), 32, "GET");
  browse_options.on_response =
      [&](const RequestSpec&, int status, const std::string&,
          const std::map<std::string, std::string>& headers) {
        if (status == 503 && headers.count("retry-after") == 0) {
          ++without_retry_after;
        }
      };
  LoadClient browse(browse_options);
  browse.Start();
  ASSERT_TRUE(PollUntil([&] { return browse.Counts().non_2xx > 0; }, 60s))
      << browse.Counts().ToString();
  LoadClient checkout(Load(p->port(), 2, "POST"));
  checkout.Start();
  ASSERT_TRUE(checkout.WaitForCompleted(200, 120s))
      << checkout.Counts().ToString();
  checkout.Stop();
  browse.Stop();

  const LoadCounts c = checkout.Counts();
  const LoadCounts b = browse.Counts();
  EXPECT_EQ(c.non_2xx, 0u) << "checkouts shed: " << c.ToString();
  EXPECT_GE(c.ok, 200u);
  EXPECT_GT(b.non_2xx, 0u) << b.ToString();
  EXPECT_GT(b.ok, 0u) << b.ToString();
  EXPECT_EQ(without_retry_after.load(), 0u);
  auto m = Scrape(*p);
  EXPECT_EQ(Sum(m, "corral_proxy_shed_total{class=\"high\""), 0);
  EXPECT_GT(m["corral_proxy_shed_total{class=\"normal\",reason=\"displaced\"}"],
            0);
  EXPECT_GE(m["corral_proxy_admitted_total{class=\"high\"}"], 200);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

std::string Ask(int fd, const std::string& request) {
  return AskOn(fd, request, 5);
}

TEST(OverloadTest, AShedRequestGets503WithRetryAfterAndItsConnectionStays) {
  // The one place on the app is held; a request queued behind it waits past
  // the delay target and its interval, and is shed, long before
  // --queue-timeout.
  auto p = Proxy({"--workers=1", "--proxy-workers=1", "--app-concurrency=1",
                  "--queue-target=100ms", "--queue-interval=100ms"},
                 {"python3", kPortApp});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  const fs::path gate = fs::temp_directory_path() /
                        ("corral-overload-gate-" + std::to_string(getpid()));
  fs::remove(gate);
  auto held = std::async(std::launch::async, [&] {
    return HttpGet(p->port(), "/block?file=" + gate.string());
  });
  ASSERT_TRUE(PollUntil(
      [&] { return Sum(Scrape(*p), "corral_app_active_requests") == 1; }, 10s));
  const int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  const std::string shed = Ask(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(shed.substr(0, 12), "HTTP/1.1 503") << shed;
  EXPECT_NE(shed.find("Retry-After: 1\r\n"), std::string::npos) << shed;
  EXPECT_EQ(shed.find("Connection: close"), std::string::npos) << shed;
  std::ofstream(gate) << "go";
  EXPECT_EQ(held.get().status, 200);
  const std::string next = Ask(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(next.substr(0, 12), "HTTP/1.1 200") << next;
  close(fd);
  fs::remove(gate);
  auto m = Scrape(*p);
  EXPECT_EQ(
      m["corral_proxy_shed_total{class=\"normal\",reason=\"queue_delay\"}"], 1);
  EXPECT_EQ(Sum(m, "corral_proxy_shed_total"), 1);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
