// The master's /metrics as folded from the shared region: proxy mode's
// queue waits by class, live proxy workers' slots plus those retired.
#include "metrics/collector.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "region/slot_recorder.h"

namespace corral::metrics {
namespace {

constexpr int64_t kMs = 1000000;

// A pool that is only its list of workers.
class FakePool : public pool::PoolView {
 public:
  std::vector<pool::WorkerView> workers;

  pool::ProbeResult Live() const override { return {true, ""}; }
  pool::ProbeResult Ready() const override { return {true, ""}; }
  pool::ProbeResult Started() const override { return {true, ""}; }
  pool::PoolState state() const override { return pool::PoolState::kServing; }
  int workers_wanted() const override {
    return static_cast<int>(workers.size());
  }
  int64_t generation() const override { return 1; }
  std::vector<pool::WorkerView> Workers() const override { return workers; }
  const pool::PoolCounts& counts() const override { return counts_; }
  nlohmann::json StatusJson() const override { return {}; }

 private:
  pool::PoolCounts counts_;
};

// "name{labels}" -> value, from the text exposition.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// Two app processes in slots 0 and 1, two proxy workers in slots 2 and 3.
class CollectorTest : public ::testing::Test {
 protected:
  CollectorTest()
      : region_(std::move(*region::SharedRegion::Create(4))),
        collector_("app", "1", apps_, region_) {
    apps_.workers = {{.index = 0, .slot = 0}, {.index = 1, .slot = 1}};
    proxies_.workers = {{.index = 0, .slot = 2}, {.index = 1, .slot = 3}};
    collector_.SetProxies(&proxies_, {.first = 2, .count = 2});
  }

  std::map<std::string, double> Scrape() const {
    return Parse(collector_.Scrape());
  }

  FakePool apps_;
  FakePool proxies_;
  region::SharedRegion region_;
  Collector collector_;
};

std::string Wait(const std::string& suffix, const std::string& cls,
                 const std::string& le = "") {
  std::string labels = "class=\"" + cls + "\"";
  if (!le.empty()) labels += ",le=\"" + le + "\"";
  return "corral_proxy_queue_wait_seconds" + suffix + "{" + labels + "}";
}

TEST_F(CollectorTest, QueueWaitIsOneHistogramPerClassFromTheFirstScrape) {
  const auto m = Scrape();
  for (const char* cls : {"high", "normal", "low"}) {
    ASSERT_EQ(m.count(Wait("_count", cls)), 1u) << cls;
    EXPECT_EQ(m.at(Wait("_count", cls)), 0) << cls;
    EXPECT_EQ(m.at(Wait("_sum", cls)), 0) << cls;
  }
  EXPECT_EQ(m.count("corral_proxy_queue_wait_seconds_count"), 0u)
      << "no series without a class";
}

TEST_F(CollectorTest, QueueWaitsAreCountedByClassOverLiveAndRetiredWorkers) {
  using overload::Priority;
  region::RecordQueueWait(region_.slot(2), Priority::kHigh, 3 * kMs);
  region::RecordQueueWait(region_.slot(2), Priority::kLow, 200 * kMs);
  region::RecordQueueWait(region_.slot(3), Priority::kHigh, 60 * kMs);
  region::RecordQueueWait(region_.slot(3), Priority::kLow, 2 * kMs);
  region::RecordQueueWait(region_.slot(3), Priority::kLow, 2 * kMs);

  auto m = Scrape();
  EXPECT_EQ(m.at(Wait("_count", "high")), 2);
  EXPECT_DOUBLE_EQ(m.at(Wait("_sum", "high")), 0.063);
  EXPECT_EQ(m.at(Wait("_bucket", "high", "0.005")), 1);
  EXPECT_EQ(m.at(Wait("_bucket", "high", "0.075")), 2);
  EXPECT_EQ(m.at(Wait("_count", "normal")), 0);
  EXPECT_EQ(m.at(Wait("_count", "low")), 3);
  EXPECT_EQ(m.at(Wait("_bucket", "low", "0.005")), 2);
  EXPECT_EQ(m.at(Wait("_bucket", "low", "0.1")), 2);
  EXPECT_EQ(m.at(Wait("_bucket", "low", "0.25")), 3);

  // The proxy worker in slot 3 exits; its replacement starts from a
  // zeroed slot and waits once more. Nothing counted goes backwards.
  collector_.RetireSlot(3);
  region_.Reset(3);
  region::RecordQueueWait(region_.slot(3), Priority::kNormal, 1 * kMs);
  m = Scrape();
  EXPECT_EQ(m.at(Wait("_count", "high")), 2);
  EXPECT_DOUBLE_EQ(m.at(Wait("_sum", "high")), 0.063);
  EXPECT_EQ(m.at(Wait("_count", "normal")), 1);
  EXPECT_EQ(m.at(Wait("_count", "low")), 3);
  EXPECT_EQ(m.at(Wait("_bucket", "low", "+Inf")), 3);
}

TEST_F(CollectorTest, MinRttIsAGaugePerAppProcessOnceMeasured) {
  collector_.SetConcurrency(true, 0);
  region_.slot(0).concurrency_limit.store(8);
  region_.slot(1).concurrency_limit.store(3);
  region_.slot(0).min_rtt_ns.store(2 * kMs);
  auto m = Scrape();
  EXPECT_DOUBLE_EQ(m.at("corral_app_min_rtt_seconds{slot=\"0\",worker=\"0\"}"),
                   0.002);
  EXPECT_EQ(m.count("corral_app_min_rtt_seconds{slot=\"1\",worker=\"1\"}"), 0u)
      << "not measured yet";
  EXPECT_EQ(m.at("corral_app_concurrency_limit{slot=\"1\",worker=\"1\"}"), 3);

  region_.slot(1).min_rtt_ns.store(150 * kMs);
  m = Scrape();
  EXPECT_DOUBLE_EQ(m.at("corral_app_min_rtt_seconds{slot=\"1\",worker=\"1\"}"),
                   0.15);
}

}  // namespace
}  // namespace corral::metrics
