// The exchange's retry rule: once, and only where the app cannot have
// acted on the request or acting twice is harmless.
#include "proxy/exchange.h"

#include <gtest/gtest.h>

namespace corral::proxy {
namespace {

TEST(ExchangeTest, ANeverConnectedRequestIsRetriedWhateverItsMethod) {
  EXPECT_TRUE(MayRetry(Failure::kConnect, "GET", false));
  EXPECT_TRUE(MayRetry(Failure::kConnect, "POST", false));
}

TEST(ExchangeTest, OnlyGetAndHeadAreRetriedAfterTheConnectionWasLost) {
  EXPECT_TRUE(MayRetry(Failure::kLostBeforeAnswer, "GET", false));
  EXPECT_TRUE(MayRetry(Failure::kLostBeforeAnswer, "HEAD", false));
  EXPECT_FALSE(MayRetry(Failure::kLostBeforeAnswer, "POST", false));
  EXPECT_FALSE(MayRetry(Failure::kLostBeforeAnswer, "DELETE", false));
}

TEST(ExchangeTest, ABrokenOrLateAnswerAndASecondFailureAreNeverRetried) {
  EXPECT_FALSE(MayRetry(Failure::kBroken, "GET", false));
  EXPECT_FALSE(MayRetry(Failure::kTimeout, "GET", false));
  EXPECT_FALSE(MayRetry(Failure::kConnect, "GET", true));
  EXPECT_FALSE(MayRetry(Failure::kLostBeforeAnswer, "GET", true));
}

}  // namespace
}  // namespace corral::proxy
