// Least-busy routing over the counts in a real shared region.
#include "proxy/balancer.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "region/shared_region.h"

namespace corral::proxy {
namespace {

class BalancerTest : public ::testing::Test {
 protected:
  // Slots 0-2: app processes; 3-4: proxy workers.
  void SetUp() override {
    auto r = region::SharedRegion::Create(5);
    ASSERT_TRUE(r.ok());
    region_.emplace(std::move(*r));
    for (int a = 0; a < 3; ++a) SetApp(a, region::SlotState::kReady, 8000 + a);
  }
  void SetApp(int slot, region::SlotState state, uint32_t port) {
    region_->slot(slot).upstream_port.store(port);
    region_->slot(slot).state.store(static_cast<uint32_t>(state));
  }
  Balancer Make(int own, int cap = 0, int own_limit = 100) {
    return Balancer(*region_, {0, 3}, {3, 2}, own, cap, own_limit);
  }
  int64_t Load(int app) {
    return region::UpstreamInFlight(*region_, {3, 2}, app);
  }
  std::optional<region::SharedRegion> region_;
};

TEST_F(BalancerTest, LeastBusyOverEveryProxyWorker) {
  Balancer a = Make(3);
  Balancer b = Make(4);
  // Three requests spread over the three apps, whoever routes them.
  std::set<int> used = {*a.Acquire(), *b.Acquire(), *a.Acquire()};
  EXPECT_EQ(used, (std::set<int>{0, 1, 2}));
  b.Release(*used.begin());
  EXPECT_EQ(*a.Acquire(), *used.begin()) << "the one with nothing in flight";
  EXPECT_EQ(Load(0) + Load(1) + Load(2), 3);
}

TEST_F(BalancerTest, ProcessesNotReadyOrWithoutAPortGetNothing) {
  SetApp(0, region::SlotState::kDraining, 8000);
  SetApp(1, region::SlotState::kReady, 0);
  Balancer a = Make(3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*a.Acquire(), 2);
  SetApp(2, region::SlotState::kStarting, 8002);
  EXPECT_FALSE(a.Acquire().has_value());
  EXPECT_FALSE(a.AnyRoutable());
}

TEST_F(BalancerTest, TheCapHoldsAcrossProxyWorkersAndExcludeIsHonoured) {
  Balancer a = Make(3, 1);
  Balancer b = Make(4, 1);
  ASSERT_TRUE(a.Acquire(/*exclude=*/0).has_value());
  ASSERT_TRUE(b.Acquire(/*exclude=*/0).has_value());
  EXPECT_EQ(Load(0), 0);
  EXPECT_EQ(*a.Acquire(), 0);
  EXPECT_FALSE(b.Acquire().has_value()) << "every process is at its cap";
  a.Release(0);
  EXPECT_EQ(*b.Acquire(), 0);
}

TEST_F(BalancerTest, OneProxyWorkersOwnLimitLeavesTheOthersTheirs) {
  Balancer a = Make(3, 0, 1);
  Balancer b = Make(4, 0, 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.Acquire().has_value());
  EXPECT_FALSE(a.Acquire().has_value()) << "one each, from this worker";
  EXPECT_TRUE(b.Acquire().has_value());
}

TEST_F(BalancerTest, TunnelsCountForTheStopButNotAgainstTheCaps) {
  Balancer a = Make(3, /*cap=*/1, /*own_limit=*/1);
  Balancer b = Make(4, /*cap=*/1, /*own_limit=*/1);
  for (int i = 0; i < 3; ++i) {
    int app = *a.Acquire();
    a.BecameTunnel(app);
  }
  // Every app process holds a tunnel from worker a, yet takes requests.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a.Acquire().has_value());
  EXPECT_FALSE(b.Acquire().has_value()) << "now each is at its cap";
  EXPECT_EQ(Load(0) + Load(1) + Load(2), 6) << "a stop still waits for all";
  a.ReleaseTunnel(0);
  EXPECT_EQ(Load(0), 1);
  EXPECT_EQ(region::UpstreamTunnels(*region_, {3, 2}, 0), 0);
}

}  // namespace
}  // namespace corral::proxy
