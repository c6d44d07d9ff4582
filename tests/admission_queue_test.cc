#include "overload/admission_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::overload {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kNoTimeout = 10'000 * kMs;

class AdmissionQueueTest : public ::testing::Test {
 protected:
  using Queue = AdmissionQueue<std::string>;

  // A delay target of 50 ms over an interval of 250 ms.
  Queue Make(size_t capacity) {
    return Queue(capacity, DelayTarget(50 * kMs, 250 * kMs));
  }
  void Push(Queue& q, std::string item, Priority p) {
    ASSERT_EQ(q.Push(std::move(item), p, now_, shed_), std::nullopt);
  }
  std::vector<std::string> Drain(Queue& q) {
    std::vector<std::string> out;
    while (!q.empty()) out.push_back(q.Pop().item);
    return out;
  }
  std::vector<std::string> Shed(ShedReason reason) {
    std::vector<std::string> out;
    for (const auto& s : shed_) {
      if (s.reason == reason) out.push_back(s.entry.item);
    }
    return out;
  }

  int64_t now_ = 1'000'000 * kMs;
  std::vector<Queue::Shed> shed_;
};

TEST_F(AdmissionQueueTest, ServesInArrivalOrderWithinAClass) {
  Queue q = Make(8);
  Push(q, "a", Priority::kNormal);
  Push(q, "b", Priority::kNormal);
  Push(q, "c", Priority::kNormal);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(AdmissionQueueTest, ServesAHigherClassFirst) {
  Queue q = Make(8);
  Push(q, "browse", Priority::kNormal);
  Push(q, "bot", Priority::kLow);
  Push(q, "checkout", Priority::kHigh);
  EXPECT_EQ(Drain(q),
            (std::vector<std::string>{"checkout", "browse", "bot"}));
}

TEST_F(AdmissionQueueTest, AFullQueueRefusesANewcomerWithNoLowerToPushOut) {
  Queue q = Make(2);
  Push(q, "a", Priority::kNormal);
  Push(q, "b", Priority::kHigh);
  EXPECT_EQ(q.Push("c", Priority::kNormal, now_, shed_),
            ShedReason::kQueueFull);
  EXPECT_TRUE(shed_.empty());
  EXPECT_EQ(q.size(), 2u);
}

TEST_F(AdmissionQueueTest, AHigherClassTakesTheOldestLowerOnesPlace) {
  Queue q = Make(3);
  Push(q, "browse-1", Priority::kNormal);
  Push(q, "bot", Priority::kLow);
  Push(q, "browse-2", Priority::kNormal);
  Push(q, "checkout-1", Priority::kHigh);
  Push(q, "checkout-2", Priority::kHigh);
  EXPECT_EQ(Shed(ShedReason::kDisplaced),
            (std::vector<std::string>{"bot", "browse-1"}));
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"checkout-1", "checkout-2",
                                                "browse-2"}));
}

TEST_F(AdmissionQueueTest, ABurstMayWaitTheTargetPlusAnInterval) {
  Queue q = Make(8);
  Push(q, "a", Priority::kNormal);
  now_ += 200 * kMs;  // past the target, not for a whole interval
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_TRUE(shed_.empty());
  EXPECT_FALSE(q.overloaded());
  now_ += 100 * kMs;  // 300 ms: target + interval
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_EQ(Shed(ShedReason::kQueueDelay), (std::vector<std::string>{"a"}));
}

TEST_F(AdmissionQueueTest, AStandingQueueShedsPastTheTargetAndServesNewest) {
  Queue q = Make(8);
  Push(q, "old", Priority::kNormal);
  now_ += 60 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);
  now_ += 200 * kMs;
  Push(q, "older-than-target", Priority::kNormal);
  now_ += 60 * kMs;
  Push(q, "newer", Priority::kNormal);
  now_ += 10 * kMs;
  Push(q, "newest", Priority::kNormal);
  // The oldest has been past the target (since 50 ms) for 280 ms.
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_TRUE(q.overloaded());
  EXPECT_EQ(Shed(ShedReason::kQueueDelay),
            (std::vector<std::string>{"old", "older-than-target"}));
  EXPECT_EQ(q.Next()->item, "newest");
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"newest", "newer"}));
}

TEST_F(AdmissionQueueTest, OverloadLastsUntilNothingPassedTheTargetForAnInterval) {
  Queue q = Make(8);
  Push(q, "a", Priority::kNormal);
  now_ += 310 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);  // sheds a: overloaded
  Push(q, "b", Priority::kNormal);
  now_ += 10 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_TRUE(q.overloaded()) << "young requests are no sign of relief";
  Push(q, "c", Priority::kNormal);
  EXPECT_EQ(q.Next()->item, "c");
  Drain(q);
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_TRUE(q.overloaded()) << "an empty moment is no sign of relief";
  Push(q, "d", Priority::kNormal);
  Push(q, "e", Priority::kNormal);
  EXPECT_EQ(q.Next()->item, "e") << "still newest first";
  Drain(q);
  // A whole interval (250 ms) with nothing past the target.
  now_ += 200 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_TRUE(q.overloaded());
  now_ += 60 * kMs;
  Push(q, "f", Priority::kNormal);
  Push(q, "g", Priority::kNormal);
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_FALSE(q.overloaded());
  EXPECT_EQ(q.Next()->item, "f") << "first come, first served again";
}

TEST_F(AdmissionQueueTest, EachClassStandsOnItsOwn) {
  Queue q = Make(8);
  Push(q, "page", Priority::kNormal);
  now_ += 310 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);  // sheds page: pages stand
  ASSERT_TRUE(q.overloaded(Priority::kNormal));
  Push(q, "checkout", Priority::kHigh);
  Push(q, "older-page", Priority::kNormal);
  Push(q, "newer-page", Priority::kNormal);
  now_ += 100 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);
  EXPECT_FALSE(q.overloaded(Priority::kHigh));
  EXPECT_EQ(Shed(ShedReason::kQueueDelay),
            (std::vector<std::string>{"page", "older-page", "newer-page"}))
      << "a standing page queue sheds its own past the target";
  EXPECT_EQ(q.Next()->item, "checkout")
      << "a checkout may still wait the target and an interval";
  Push(q, "page-2", Priority::kNormal);
  Push(q, "page-3", Priority::kNormal);
  EXPECT_EQ(Drain(q),
            (std::vector<std::string>{"checkout", "page-3", "page-2"}))
      << "pages newest first, checkouts in arrival order";
}

TEST_F(AdmissionQueueTest, OverloadedAFullQueueShedsItsOldestForANewcomer) {
  Queue q = Make(2);
  Push(q, "a", Priority::kNormal);
  now_ += 310 * kMs;
  q.Expire(now_, true, kNoTimeout, shed_);  // sheds a: overloaded
  ASSERT_TRUE(q.overloaded());
  shed_.clear();
  Push(q, "b", Priority::kNormal);
  Push(q, "checkout", Priority::kHigh);
  Push(q, "c", Priority::kNormal);
  EXPECT_EQ(Shed(ShedReason::kQueueFull), (std::vector<std::string>{"b"}));
  // A class is never pushed out by a lower one.
  EXPECT_EQ(q.Push("d", Priority::kLow, now_, shed_), ShedReason::kQueueFull);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"checkout", "c"}));
}

TEST_F(AdmissionQueueTest, WithNoAppToServeOnlyTheTimeOutSheds) {
  Queue q = Make(8);
  Push(q, "a", Priority::kNormal);
  now_ += 2000 * kMs;
  q.Expire(now_, false, 5000 * kMs, shed_);
  EXPECT_TRUE(shed_.empty());
  now_ += 3000 * kMs;
  q.Expire(now_, false, 5000 * kMs, shed_);
  EXPECT_EQ(Shed(ShedReason::kQueueTimeout), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(q.empty());
}

TEST_F(AdmissionQueueTest, UnboundedPushesPassTheCapacity) {
  Queue q = Make(1);
  q.PushUnbounded("a", Priority::kNormal, now_);
  q.PushUnbounded("b", Priority::kNormal, now_);
  EXPECT_EQ(q.size(), 2u);
}

}  // namespace
}  // namespace corral::overload
