// The Grafana dashboard the chart ships: every panel's query, with the
// dashboard's variables filled in, returns data from a real Prometheus that
// scraped corral-shop under load, through a crash and a roll; the panels
// of proxy mode's overload, from one that scraped corral --proxy under a
// load past its cap.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "load_client.h"
#include "prometheus_server.h"

namespace corral::e2e {
namespace {

const std::filesystem::path kDashboard =
    std::filesystem::path(__FILE__).parent_path().parent_path() /
    "helm/corral-shop/dashboards/corral.json";

struct Query {
  std::string panel;
  std::string expr;
};

// Panels whose title says so show proxy mode's metrics only.
bool ProxyModePanel(const Query& q) {
  return q.panel.find("(proxy mode)") != std::string::npos;
}

// Polls each query until it returns data, all within one deadline (rates
// need two scrapes after the load).
void ExpectData(const PrometheusServer& prometheus,
                const std::vector<Query>& queries) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (const auto& q : queries) {
    std::string error;
    nlohmann::json last;
    bool has_data = PollUntil(
        [&]() {
          auto result = prometheus.Query(q.expr, &error);
          if (!result) return false;
          last = *result;
          return !result->empty();
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(deadline - std::chrono::steady_clock::now(),
                     std::chrono::steady_clock::duration(1s))));
    EXPECT_TRUE(has_data) << "panel \"" << q.panel << "\": " << q.expr
                          << "\nreturned " << last.dump() << "\n"
                          << error << "\n"
                          << prometheus.Log();
  }
}

// Every target's expr, rows' nested panels included.
void CollectQueries(const nlohmann::json& panels, std::vector<Query>& out) {
  for (const auto& p : panels) {
    if (p.contains("panels")) CollectQueries(p["panels"], out);
    for (const auto& t : p.value("targets", nlohmann::json::array())) {
      out.push_back({p.value("title", "?"), t.value("expr", "")});
    }
  }
}

// Grafana's variable forms ($var, ${var}, ${var:fmt}, [[var]]) replaced by
// what the dashboard would send with "All" selected; unknown names are kept
// in *unknown.
std::string Substitute(const std::string& expr,
                       const std::map<std::string, std::string>& values,
                       std::vector<std::string>* unknown) {
  static const std::regex kVar(
      R"(\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+))");
  std::string out;
  auto begin = std::sregex_iterator(expr.begin(), expr.end(), kVar);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    std::string name = m[1].matched   ? m[1].str()
                       : m[2].matched ? m[2].str()
                                      : m[3].str();
    out += expr.substr(last, m.position() - last);
    auto v = values.find(name);
    if (v == values.end()) {
      unknown->push_back(name);
      out += m.str();
    } else {
      out += v->second;
    }
    last = m.position() + m.length();
  }
  return out + expr.substr(last);
}

TEST(DashboardTest, EveryPanelQueryReturnsDataFromARealPrometheus) {
  std::ifstream in(kDashboard);
  ASSERT_TRUE(in) << "cannot read " << kDashboard;
  nlohmann::json dashboard = nlohmann::json::parse(in);
  std::vector<Query> queries;
  CollectQueries(dashboard["panels"], queries);
  ASSERT_GE(queries.size(), 10u);

  // "All" is ".*" for every query variable (the dashboard's allValue); the
  // built-in intervals get what Grafana would send for a short range.
  std::map<std::string, std::string> values = {
      {"__rate_interval", "1m"}, {"__interval", "15s"}, {"__range", "5m"}};
  for (const auto& v : dashboard["templating"]["list"]) {
    if (v["type"] == "query") {
      EXPECT_EQ(v.value("allValue", ""), ".*") << v["name"];
      values[v["name"]] = ".*";
    }
  }
  for (auto& q : queries) {
    std::vector<std::string> unknown;
    q.expr = Substitute(q.expr, values, &unknown);
    EXPECT_TRUE(unknown.empty())
        << q.panel << ": unknown variable " << unknown.front();
  }

  auto p = CorralProcess::Start(
      {.args = {"--workers=2"}, .env = {{"SHOP_FAULTS", "1"}}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  PrometheusServer prometheus(p->admin_port());
  // Load: products, a 404, a bad checkout, a crashed worker and a roll, so
  // restarts and rolls have series with something in them.
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(
        HttpGet(p->port(), "/products/" + std::to_string(1 + i % 50)).status,
        200);
  }
  HttpGet(p->port(), "/nowhere");
  HttpPost(p->port(), "/checkout", "{bad json");
  kill(p->ChildPids().front(), SIGKILL);
  ASSERT_TRUE(p->WaitForLog("worker died unexpectedly", 1, 10s));
  p->Signal(SIGHUP);
  ASSERT_TRUE(p->WaitForLog("roll finished", 1, 30s)) << p->Logs();
  for (int i = 0; i < 50; ++i) HttpGet(p->port(), "/products/1");

  std::vector<Query> shop_queries;
  std::vector<Query> proxy_queries;
  for (const auto& q : queries) {
    (ProxyModePanel(q) ? proxy_queries : shop_queries).push_back(q);
  }
  EXPECT_GE(proxy_queries.size(), 4u);
  ExpectData(prometheus, shop_queries);

  // And the numbers are the real ones: 250 products, a 404 and a 400.
  double seen = -1;
  EXPECT_TRUE(PollUntil(
      [&]() {
        auto total =
            prometheus.Query("sum(http_server_request_duration_seconds_count)");
        if (!total || total->empty()) return false;
        seen = std::stod((*total)[0]["value"][1].get<std::string>());
        return seen == 252;
      },
      20s))
      << "Prometheus saw " << seen;

  // Proxy mode, one place on its app process and 8 connections: requests
  // wait in the queue and some are shed.
  auto proxied = CorralProcess::Start(
      {.args = {"--proxy", "--workers=1", "--app-concurrency=1",
                "--adaptive-concurrency=false", "--queue-target=20ms",
                "--queue-interval=20ms"},
       .binary = CORRAL_BIN,
       .command = {"python3", std::string(CORRAL_E2E_APPS) + "/port_app.py"}});
  ASSERT_TRUE(proxied->WaitReady(30s)) << proxied->Logs();
  PrometheusServer proxy_prometheus(proxied->admin_port());
  LoadOptions load;
  load.port = proxied->port();
  load.connections = 8;
  LoadClient client(load);
  client.Start();
  ASSERT_TRUE(client.WaitForCompleted(500, 60s)) << client.Counts().ToString();
  ExpectData(proxy_prometheus, proxy_queries);
  client.Stop();
}

}  // namespace
}  // namespace corral::e2e
