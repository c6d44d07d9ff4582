// The limits' owner among proxy workers, over a real shared region: every
// proxy worker's answers feed the limit it sets.
#include "proxy/limits.h"

#include <gtest/gtest.h>

#include <optional>

#include "region/shared_region.h"

namespace corral::proxy {
namespace {

constexpr int64_t kMs = 1'000'000;

class LimitsTest : public ::testing::Test {
 protected:
  // Slot 0: an app process; 1-2: proxy workers, both ready (1 owns).
  void SetUp() override {
    auto r = region::SharedRegion::Create(3);
    ASSERT_TRUE(r.ok());
    region_.emplace(std::move(*r));
    region_->slot(0).upstream_port.store(8000);
    for (int s = 0; s < 3; ++s) {
      region_->slot(s).state.store(
          static_cast<uint32_t>(region::SlotState::kReady));
    }
  }
  overload::LimiterSettings Settings() {
    overload::LimiterSettings s;
    s.max_limit = 200;
    s.probe_samples = 20;
    s.first_probe_ns = 0;  // a probe first
    return s;
  }
  Limits Make(int own) {
    return Limits(*region_, {0, 1}, {1, 2}, own, Settings());
  }
  // The limit of a class on the app process.
  int Limit(overload::Priority p = overload::Priority::kNormal) {
    return region_->slot(0).class_limit[static_cast<size_t>(p)].load();
  }

  std::optional<region::SharedRegion> region_;
  int64_t now_ = 5'000'000 * kMs;
};

TEST_F(LimitsTest, TheLowestReadyProxyWorkerOwnsTheLimits) {
  Limits owner = Make(1);
  Limits other = Make(2);
  owner.Tick(now_);
  other.Tick(now_);
  EXPECT_TRUE(owner.owner());
  EXPECT_FALSE(other.owner());
  EXPECT_EQ(Limit(), 3) << "a probe, at the minimum";
  region_->slot(1).state.store(
      static_cast<uint32_t>(region::SlotState::kDraining));
  other.Tick(now_);
  EXPECT_TRUE(other.owner()) << "the next ready one takes over";
}

TEST_F(LimitsTest, AnswersToAnotherProxyWorkerFeedTheOwnersProbe) {
  // The other proxy worker holds the probe's places: only its requests
  // are answered.
  Limits owner = Make(1);
  Limits other = Make(2);
  region_->slot(2).upstream_in_flight[0].store(3);
  region_->slot(2)
      .upstream_class_in_flight[0][static_cast<size_t>(
          overload::Priority::kNormal)]
      .store(3);
  owner.Tick(now_);
  other.Tick(now_);
  ASSERT_EQ(Limit(), 3);
  for (int round = 0; round < 10; ++round) {
    const int64_t sent = now_;
    now_ += 10 * kMs;
    for (int i = 0; i < 3; ++i) other.OnAnswer(0, sent, now_);
    owner.Tick(now_);
    other.Tick(now_);
  }
  EXPECT_EQ(region_->slot(0).min_rtt_ns.load(), 10 * kMs)
      << "the probe measured the other proxy worker's answers";
  // Windows of the other's answers at minRTT: the limit grows.
  for (int window = 0; window < 5; ++window) {
    for (int i = 0; i < 10; ++i) other.OnAnswer(0, now_, now_ + 10 * kMs);
    now_ += 100 * kMs;
    owner.Tick(now_);
  }
  EXPECT_GT(Limit(), 3);
}

TEST_F(LimitsTest, EachClassHasALimitOfItsOwnAndTheSlotTheirSum) {
  // Checkouts that wait 50 ms on their payment and pages of 1 ms, in
  // windows where neither queues: each class's limit grows on its own
  // answers, and none is held down by the other's latency.
  Limits owner = Make(1);
  owner.Tick(now_);
  const auto high = overload::Priority::kHigh;
  for (int round = 0; round < 10; ++round) {
    const int64_t sent = now_;
    now_ += 50 * kMs;
    for (int i = 0; i < 3; ++i) {
      owner.OnAnswer(0, sent, sent + kMs);
      owner.OnAnswer(0, sent, now_, high);
    }
    owner.Tick(now_);
  }
  for (int window = 0; window < 5; ++window) {
    // Each class as many in flight as its limit lets.
    for (auto p : {overload::Priority::kNormal, high}) {
      region_->slot(1)
          .upstream_class_in_flight[0][static_cast<size_t>(p)]
          .store(Limit(p));
    }
    for (int i = 0; i < 10; ++i) {
      owner.OnAnswer(0, now_, now_ + kMs);
      owner.OnAnswer(0, now_, now_ + 50 * kMs, high);
    }
    now_ += 100 * kMs;
    owner.Tick(now_);
  }
  EXPECT_GT(Limit(), 3);
  EXPECT_GT(Limit(high), 3);
  EXPECT_EQ(region_->slot(0).concurrency_limit.load(),
            Limit(overload::Priority::kLow) + Limit() + Limit(high));
}

TEST_F(LimitsTest, AnswersBeforeTheOwnerTookOverAreNotItsOwn) {
  Limits other = Make(2);
  // Slow answers while nobody owned the limits...
  for (int i = 0; i < 30; ++i) other.OnAnswer(0, now_, now_ + 500 * kMs);
  now_ += 500 * kMs;
  Limits owner = Make(1);
  owner.Tick(now_);
  // ...then fast ones: the probe sees only these.
  for (int i = 0; i < 20; ++i) other.OnAnswer(0, now_, now_ + 10 * kMs);
  now_ += 10 * kMs;
  owner.Tick(now_);
  EXPECT_EQ(region_->slot(0).min_rtt_ns.load(), 10 * kMs);
}

}  // namespace
}  // namespace corral::proxy
