#include "metrics/request_totals.h"

#include <gtest/gtest.h>

#include "region/slot_recorder.h"

namespace corral::metrics {
namespace {

constexpr int64_t kMs = 1000000;

class RequestTotalsTest : public ::testing::Test {
 protected:
  RequestTotalsTest() : region_(std::move(*region::SharedRegion::Create(4))) {}
  region::SharedRegion region_;
};

TEST_F(RequestTotalsTest, FoldsSeriesWithRouteNamesAndBuckets) {
  region::SlotRecorder rec(&region_.slot(0));
  rec.PublishRoutes({"/products/{id}", "/checkout"}, "unmatched");
  rec.RequestStarted("/products/1");
  rec.RequestFinished("GET", "/products/{id}", 200, 3 * kMs);  // <= 5 ms
  rec.RequestStarted("/products/2");
  rec.RequestFinished("GET", "/products/{id}", 200, 60 * kMs);  // <= 75 ms
  rec.RequestStarted("/checkout");
  rec.RequestFinished("BREW", "/checkout", 405, 20 * kMs);
  rec.RequestStarted("/x");
  rec.RequestFinished("GET", "/not-a-route", 404, 1 * kMs);
  EXPECT_EQ(region_.slot(0).in_flight.load(), 0);
  EXPECT_EQ(region_.slot(0).requests_total.load(), 4u);

  RequestTotals::Map m;
  RequestTotals::AddSlot(region_.slot(0), m);
  ASSERT_EQ(m.size(), 3u);
  const SeriesTotals& ok = m.at({"GET", 200, "/products/{id}"});
  EXPECT_EQ(ok.count, 2u);
  EXPECT_EQ(ok.duration_sum_ns, static_cast<uint64_t>(63 * kMs));
  EXPECT_EQ(ok.buckets[0], 1u);
  EXPECT_EQ(ok.buckets[4], 1u);
  EXPECT_EQ(m.at({"_OTHER", 405, "/checkout"}).count, 1u);
  EXPECT_EQ(m.at({"GET", 404, "unmatched"}).count, 1u);
}

TEST_F(RequestTotalsTest, RetiredTotalsPlusLiveNeverGoBackwards) {
  region::SlotRecorder a(&region_.slot(0));
  a.PublishRoutes({"/a"}, "unmatched");
  for (int i = 0; i < 5; ++i) {
    a.RequestStarted("/a");
    a.RequestFinished("GET", "/a", 200, kMs);
  }
  RequestTotals retired;
  RequestTotals::Map live;
  RequestTotals::AddSlot(region_.slot(0), live);
  uint64_t before = live.at({"GET", 200, "/a"}).count;

  // The worker exits: fold, then the slot is reset and reused.
  RequestTotals::AddSlot(region_.slot(0), retired.series());
  region_.Reset(0);
  region::SlotRecorder b(&region_.slot(0));
  b.PublishRoutes({"/a"}, "unmatched");
  b.RequestStarted("/a");
  b.RequestFinished("GET", "/a", 200, kMs);

  RequestTotals::Map now = retired.series();
  RequestTotals::AddSlot(region_.slot(0), now);
  EXPECT_EQ(now.at({"GET", 200, "/a"}).count, before + 1);
}

TEST_F(RequestTotalsTest, TooManySeriesLandInOneOverflowSeries) {
  region::SlotRecorder rec(&region_.slot(1));
  rec.PublishRoutes({"/a"}, "unmatched");
  for (int status = 100; status < 100 + 2 * region::kMaxSeries; ++status) {
    rec.RequestStarted("/a");
    rec.RequestFinished("GET", "/a", status, kMs);
  }
  RequestTotals::Map m;
  RequestTotals::AddSlot(region_.slot(1), m);
  uint64_t total = 0;
  for (const auto& [labels, t] : m) total += t.count;
  EXPECT_EQ(total, static_cast<uint64_t>(2 * region::kMaxSeries))
      << "none lost";
  EXPECT_LE(m.size(), static_cast<size_t>(region::kMaxSeries));
}

TEST(BucketIndexTest, BoundsAreInclusive) {
  EXPECT_EQ(region::BucketIndex(5 * kMs), 0);
  EXPECT_EQ(region::BucketIndex(5 * kMs + 1), 1);
  EXPECT_EQ(region::BucketIndex(10000 * kMs), 13);
  EXPECT_EQ(region::BucketIndex(10001 * kMs), 14);
}

}  // namespace
}  // namespace corral::metrics
