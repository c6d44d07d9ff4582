#include "overload/priority.h"

#include <gtest/gtest.h>

namespace corral::overload {
namespace {

TEST(PriorityTest, TheDefaultPutsUnsafeMethodsAboveReads) {
  auto rules = PriorityRules::Parse(kDefaultPriority);
  ASSERT_TRUE(rules.ok()) << rules.status();
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE"}) {
    EXPECT_EQ(rules->Classify(m, "/checkout"), Priority::kHigh) << m;
  }
  EXPECT_EQ(rules->Classify("GET", "/products/1"), Priority::kNormal);
  EXPECT_EQ(rules->Classify("HEAD", "/"), Priority::kNormal);
}

TEST(PriorityTest, TemplatesAndMethodsMatchAndTheFirstRuleDecides) {
  auto rules = PriorityRules::Parse(
      "POST /checkout=high, /products/{id}=low, GET /search=low, POST=normal");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->Classify("POST", "/checkout"), Priority::kHigh);
  EXPECT_EQ(rules->Classify("GET", "/checkout"), Priority::kNormal);
  EXPECT_EQ(rules->Classify("GET", "/products/17"), Priority::kLow);
  EXPECT_EQ(rules->Classify("GET", "/products/17/reviews"),
            Priority::kNormal);
  EXPECT_EQ(rules->Classify("GET", "/products/"), Priority::kNormal)
      << "a parameter is a segment that is not empty";
  EXPECT_EQ(rules->Classify("GET", "/search"), Priority::kLow);
  EXPECT_EQ(rules->Classify("POST", "/search"), Priority::kNormal);
}

TEST(PriorityTest, AnEmptySpecMakesEveryRequestNormal) {
  auto rules = PriorityRules::Parse("");
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->Classify("POST", "/checkout"), Priority::kNormal);
}

TEST(PriorityTest, BadRulesSayWhatIsWrong) {
  EXPECT_EQ(PriorityRules::Parse("POST").status().message(),
            "--priority: \"POST\" is not MATCH=CLASS (say POST=high or "
            "/products/{id}=low)");
  EXPECT_EQ(PriorityRules::Parse("POST=urgent").status().message(),
            "--priority: \"urgent\" in \"POST=urgent\" is not a class (high, "
            "normal or low)");
  EXPECT_EQ(PriorityRules::Parse("post=high").status().message(),
            "--priority: \"post\" is neither an upper-case method nor a "
            "template from /");
  EXPECT_FALSE(PriorityRules::Parse("/a /b=high").ok());
}

}  // namespace
}  // namespace corral::overload
