// Proxy mode's pure parts: which fields cross the proxy, and least-busy
// routing over the counts in a real shared region.
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "proxy/balancer.h"
#include "proxy/forward.h"
#include "region/shared_region.h"

namespace corral::proxy {
namespace {

TEST(ForwardTest, HopByHopFieldsAndThoseConnectionNamesAreDropped) {
  EXPECT_TRUE(IsHopByHop("Keep-Alive", ""));
  EXPECT_TRUE(IsHopByHop("transfer-encoding", ""));
  EXPECT_TRUE(IsHopByHop("Upgrade", ""));
  EXPECT_TRUE(IsHopByHop("X-Trace", "keep-alive, x-trace"));
  EXPECT_FALSE(IsHopByHop("X-Trace", "keep-alive"));
  EXPECT_FALSE(IsHopByHop("Content-Type", ""));
}

TEST(ForwardTest, ConnectionCannotMakeHostOrContentLengthHopByHop) {
  EXPECT_FALSE(IsHopByHop("Host", "close, host"));
  EXPECT_FALSE(IsHopByHop("content-length", "Content-Length"));
}

TEST(ForwardTest, ResponseFramingFollowsRfc9112) {
  EXPECT_EQ(CheckResponseFraming({{"Content-Length", "5"}}).problem, "");
  ResponseFraming f = CheckResponseFraming({{"Transfer-Encoding", "chunked"}});
  EXPECT_EQ(f.problem, "");
  EXPECT_EQ(f.codings, "");
  f = CheckResponseFraming({{"Transfer-Encoding", "gzip, chunked"}});
  EXPECT_EQ(f.problem, "");
  EXPECT_EQ(f.codings, "gzip");
  f = CheckResponseFraming({{"Transfer-Encoding", "gzip"}});
  EXPECT_EQ(f.problem, "");
  EXPECT_EQ(f.codings, "gzip");
  EXPECT_NE(CheckResponseFraming(
                {{"Transfer-Encoding", "gzip"}, {"Content-Length", "5"}})
                .problem,
            "");
  EXPECT_NE(CheckResponseFraming({{"Transfer-Encoding", "chunked, chunked"}})
                .problem,
            "");
  EXPECT_NE(CheckResponseFraming(
                {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}})
                .problem,
            "");
}

TEST(ForwardTest, RequestHeadCarriesTheClientAndSetsTheLength) {
  // Built, not assigned: GCC 12 at -O3 warns (-Wrestrict, a false
  // positive) on a std::string assigned from a literal here.
  const http::Request r{.method = "POST",
                        .target = "/checkout?x=%31",
                        .headers = {{"Host", "shop"},
                                    {"Connection", "close, X-Hop"},
                                    {"X-Hop", "1"},
                                    {"Expect", "100-continue"},
                                    {"Content-Length", "999"},
                                    {"X-Forwarded-For", "10.0.0.1"},
                                    {"Forwarded", "for=10.0.0.1"},
                                    {"Accept", "*/*"}},
                        .body = "{}",
                        .remote_address = "10.0.0.2"};
  EXPECT_EQ(UpstreamRequestHead(r),
            "POST /checkout?x=%31 HTTP/1.1\r\n"
            "Host: shop\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"
            "Forwarded: for=10.0.0.1, for=10.0.0.2;proto=http\r\n"
            "X-Forwarded-Proto: http\r\n"
            "Content-Length: 2\r\n\r\n");
}

TEST(ForwardTest, HttpTenClientWithoutHostAndAnIpv6Client) {
  http::Request r;
  r.method = "GET";
  r.target = "/";
  r.headers = {{"X-Forwarded-Proto", "https"}};
  r.remote_address = "::1";
  EXPECT_EQ(UpstreamRequestHead(r),
            "GET / HTTP/1.1\r\n"
            "X-Forwarded-Proto: https\r\n"
            "Host: localhost\r\n"
            "X-Forwarded-For: ::1\r\n"
            "Forwarded: for=\"[::1]\";proto=http\r\n\r\n");
}

TEST(ForwardTest, AnUpgradeKeepsItsFieldsForTheApp) {
  http::Request r;
  r.method = "GET";
  r.target = "/chat";
  r.headers = {{"Host", "a"},
               {"Upgrade", "websocket"},
               {"Connection", "keep-alive, Upgrade"}};
  EXPECT_EQ(UpgradeWanted(r), "websocket");
  EXPECT_EQ(UpstreamRequestHead(r),
            "GET /chat HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: http\r\n"
            "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  r.headers = {{"Host", "a"}, {"Upgrade", "websocket"}};
  EXPECT_EQ(UpgradeWanted(r), "") << "Connection must name upgrade";
}

TEST(ForwardTest, AnswerLosesItsFramingAndHopByHopFields) {
  http::Headers out = ClientResponseHeaders({{"Content-Type", "text/plain"},
                                             {"Content-Length", "5"},
                                             {"Transfer-Encoding", "chunked"},
                                             {"Connection", "X-Internal"},
                                             {"X-Internal", "1"},
                                             {"Set-Cookie", "a=1"}});
  EXPECT_EQ(out, (http::Headers{{"Content-Type", "text/plain"},
                                {"Set-Cookie", "a=1"}}));
}

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

}  // namespace
}  // namespace corral::proxy
