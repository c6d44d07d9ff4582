// --request-deadline: a request its handler never answers gets 504 at the
// deadline, other requests keep being served, and a C++ app's worker is
// recycled; in proxy mode, an app process that holds a request too
// long does not hold its client past the deadline.
#include <gtest/gtest.h>

#include <future>
#include <string>

#include "harness.h"

namespace corral::e2e {
namespace {

nlohmann::json Status(const CorralProcess& p) {
  return nlohmann::json::parse(HttpGet(p.admin_port(), "/status").body, nullptr,
                               false);
}

TEST(DeadlineTest, AHandlerThatNeverAnswersGets504AndItsWorkerIsRecycled) {
  auto p =
      CorralProcess::Start({.args = {"--workers=1", "--request-deadline=1s"},
                            .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto stuck = std::async(std::launch::async, [&]() {
    return HttpPost(p->port(), "/fault/never", "{}");
  });
  // The same worker serves others while that request waits.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(HttpGet(p->port(), "/products/" + std::to_string(i + 1)).status,
              200);
  }
  HttpResult r = stuck.get();
  EXPECT_EQ(r.status, 504) << r.error << "\n" << p->Logs();
  EXPECT_EQ(r.headers["Connection"], "close");
  ASSERT_TRUE(p->WaitForLog("request past --request-deadline", 1, 5s))
      << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("request past --request-deadline")[0]["path"],
            "/fault/never");
  EXPECT_EQ(HttpGet(p->port(), "/products/1").status, 200);
  EXPECT_EQ(Sum(ParseExposition(HttpGet(p->admin_port(), "/metrics").body),
                "corral_requests_past_deadline_total"),
            1);
  // The master recycles it, replacement first, and the pool serves on.
  ASSERT_TRUE(p->WaitForLog("recycle finished", 1, 30s)) << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("recycling worker")[0]["reason"], "deadline");
  EXPECT_EQ(p->LogsWithMsg("recycling worker")[0]["order"],
            "replacement_first");
  EXPECT_EQ(HttpGet(p->port(), "/products/1").status, 200);
  nlohmann::json status = Status(*p);
  ASSERT_EQ(status["workers"].size(), 1u) << status;
  EXPECT_EQ(status["workers"][0]["recycle_requested"], false) << status;
  EXPECT_EQ(ParseExposition(HttpGet(p->admin_port(), "/metrics")
                                .body)["corral_worker_restarts_total{reason="
                                       "\"deadline\"}"],
            1);
}

TEST(DeadlineTest, ProxyAnswers504AndRecyclesTheAppProcessThatHeldIt) {
  const std::string app = std::string(CORRAL_E2E_APPS) + "/port_app.py";
  auto p = CorralProcess::Start(
      {.args = {"--proxy", "--workers=2", "--request-deadline=1s",
                "--drain-delay=0s"},
       .binary = CORRAL_BIN,
       .command = {"python3", app}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto slow = std::async(std::launch::async,
                         [&]() { return HttpGet(p->port(), "/work?ms=8000"); });
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(HttpGet(p->port(), "/").status, 200);
  }
  HttpResult r = slow.get();
  EXPECT_EQ(r.status, 504) << r.error << "\n" << p->Logs();
  EXPECT_EQ(HttpGet(p->port(), "/").status, 200);
  EXPECT_EQ(Sum(ParseExposition(HttpGet(p->admin_port(), "/metrics").body),
                "corral_requests_past_deadline_total"),
            1);
  // The app process, not the proxy worker, is recycled, replacement first;
  // it is stopped once its requests are done (the stuck one at the drain
  // timeout), and the app serves on.
  ASSERT_TRUE(p->WaitForLog("recycle finished", 1, 30s)) << p->Logs();
  auto recycling = p->LogsWithMsg("recycling worker");
  ASSERT_EQ(recycling.size(), 1u) << p->Logs();
  EXPECT_EQ(recycling[0]["pool"], "app") << p->Logs();
  EXPECT_EQ(recycling[0]["reason"], "deadline");
  EXPECT_EQ(recycling[0]["order"], "replacement_first");
  EXPECT_EQ(HttpGet(p->port(), "/").status, 200);
}

TEST(DeadlineTest, RefusedInSocketMode) {
  auto p = CorralProcess::Start({.args = {"--request-deadline=1s"},
                                 .pid_namespace = false,
                                 .binary = CORRAL_BIN,
                                 .command = {"/bin/true"}});
  EXPECT_EQ(p->WaitExit(10s), 2) << p->Logs();
  EXPECT_NE(p->Logs().find("--request-deadline needs --listen and --proxy"),
            std::string::npos)
      << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
