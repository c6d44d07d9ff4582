// The ring of answers' latencies in an app process's slot, over a real
// shared region: many proxy workers write, the owner of the limits reads.
#include "proxy/latency_ring.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "region/shared_region.h"

namespace corral::proxy {
namespace {

constexpr int64_t kMs = 1'000'000;

class LatencyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = region::SharedRegion::Create(1);
    ASSERT_TRUE(r.ok());
    region_.emplace(std::move(*r));
  }
  region::WorkerSlot& app() { return region_->slot(0); }
  void Push(int64_t started_ns, int64_t answered_ns,
            overload::Priority priority = overload::Priority::kNormal) {
    PushLatency(app(), started_ns, answered_ns, priority);
  }
  std::vector<LatencySample> Read(LatencyReader& reader, int64_t now_ns) {
    std::vector<LatencySample> out;
    reader.Read(app(), now_ns, out);
    return out;
  }

  std::optional<region::SharedRegion> region_;
  // Past 2^28 microseconds, so the start's low bits wrap in the ring.
  int64_t now_ = 3'600'000 * kMs + 123'456'000;
};

TEST_F(LatencyRingTest, AReaderGetsWhatWasWrittenSinceItLastLooked) {
  LatencyReader reader(app());
  Push(now_, now_ + 7 * kMs);
  Push(now_ + kMs, now_ + 3 * kMs);
  std::vector<LatencySample> got = Read(reader, now_ + 10 * kMs);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].started_ns, now_);
  EXPECT_EQ(got[0].answered_ns, now_ + 7 * kMs);
  EXPECT_EQ(got[1].started_ns, now_ + kMs);
  EXPECT_EQ(got[1].answered_ns, now_ + 3 * kMs);
  EXPECT_TRUE(Read(reader, now_ + 20 * kMs).empty()) << "read once";
}

TEST_F(LatencyRingTest, EachAnswerKeepsItsClass) {
  LatencyReader reader(app());
  Push(now_, now_ + 50 * kMs, overload::Priority::kHigh);
  Push(now_, now_ + kMs, overload::Priority::kLow);
  std::vector<LatencySample> got = Read(reader, now_ + 60 * kMs);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].priority, overload::Priority::kHigh);
  EXPECT_EQ(got[1].priority, overload::Priority::kLow);
}

TEST_F(LatencyRingTest, ANewReaderStartsAfterWhatIsWritten) {
  Push(now_, now_ + kMs);
  LatencyReader reader(app());
  EXPECT_TRUE(Read(reader, now_ + 2 * kMs).empty());
}

TEST_F(LatencyRingTest, StartsAreKeptToTheMicrosecondLongAfter) {
  LatencyReader reader(app());
  // Answered after 200 s, read 60 s later: the start is still placed.
  Push(now_ + 1'500, now_ + 200'000 * kMs);
  std::vector<LatencySample> got = Read(reader, now_ + 260'000 * kMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].started_ns, now_ + 1'000);
  EXPECT_EQ(got[0].answered_ns, now_ + 200'000 * kMs);
}

TEST_F(LatencyRingTest, AReaderThatFellBehindGetsTheLatestRingful) {
  LatencyReader reader(app());
  const int n = region::kLatencyRing + 10;
  for (int i = 0; i < n; ++i) Push(now_, now_ + (i + 1) * 1000);
  std::vector<LatencySample> got = Read(reader, now_ + 10 * kMs);
  ASSERT_EQ(got.size(), static_cast<size_t>(region::kLatencyRing));
  EXPECT_EQ(got.front().answered_ns - now_, 11 * 1000);
  EXPECT_EQ(got.back().answered_ns - now_, n * 1000);
}

TEST_F(LatencyRingTest, AnEntryNotYetStoredIsSkipped) {
  LatencyReader reader(app());
  // A writer took an index and has not stored its word (or died).
  app().latencies_written.fetch_add(1);
  Push(now_, now_ + kMs);
  EXPECT_EQ(Read(reader, now_ + 2 * kMs).size(), 1u);
}

TEST_F(LatencyRingTest, AnEntryLeftFromTheLastLapIsSkipped) {
  LatencyReader reader(app());
  for (int i = 0; i < region::kLatencyRing; ++i) {
    Push(now_, now_ + kMs);
  }
  EXPECT_EQ(Read(reader, now_ + 2 * kMs).size(),
            static_cast<size_t>(region::kLatencyRing));
  // The next index's word is still the last lap's.
  app().latencies_written.fetch_add(1);
  EXPECT_TRUE(Read(reader, now_ + 3 * kMs).empty());
}

TEST_F(LatencyRingTest, ASlotResetForANewProcessIsReadFromItsStart) {
  LatencyReader reader(app());
  for (int i = 0; i < 5; ++i) Push(now_, now_ + kMs);
  Read(reader, now_ + 2 * kMs);
  region_->Reset(0);
  Push(now_, now_ + 4 * kMs);
  std::vector<LatencySample> got = Read(reader, now_ + 5 * kMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].answered_ns, now_ + 4 * kMs);
}

}  // namespace
}  // namespace corral::proxy
