#include "master/config_generations.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace corral::master {
namespace {

class FixedClock : public clock::Clock {
 public:
  int64_t Now() const override { return 7; }
  int64_t UnixNow() const override { return 1'700'000'000'000'000'000; }
};

config::ConfigSpec Spec() {
  config::ConfigSpec spec;
  spec.keys.push_back({"banner", config::KeyType::kString, "hi", "a greeting"});
  return spec;
}

TEST(ConfigGenerationsTest, UnreadableSnapshotIsRejectedLikeAnInvalidOne) {
  config::ConfigSpec spec = Spec();
  FixedClock clock;
  ConfigGenerations configs(spec, clock);
  ASSERT_EQ(configs.Offer(config::Snapshot{}, "dir").kind,
            ConfigGenerations::Outcome::Kind::kAccepted);
  auto out = configs.Offer(
      absl::FailedPreconditionError("key \"banner\" is larger than 1 MiB"),
      "dir");
  EXPECT_EQ(out.kind, ConfigGenerations::Outcome::Kind::kRejected);
  EXPECT_EQ(out.generation, 1);
  EXPECT_EQ(configs.rejected(), 1u);
  nlohmann::json status = configs.StatusJson();
  EXPECT_EQ(status["rejected_total"], 1);
  EXPECT_NE(status["last_rejection"]["error"].get<std::string>().find(
                "larger than 1 MiB"),
            std::string::npos);
  EXPECT_EQ(status["last_rejection"]["at"], "2023-11-14T22:13:20.000Z");
}

TEST(ConfigGenerationsTest, PruneKeepsTheLiveGenerationAndThoseInUse) {
  config::ConfigSpec spec = Spec();
  FixedClock clock;
  ConfigGenerations configs(spec, clock);
  for (const char* banner : {"a", "b", "c"}) {
    config::Snapshot snap;
    snap["banner"] = banner;
    ASSERT_EQ(configs.Offer(snap, "dir").kind,
              ConfigGenerations::Outcome::Kind::kAccepted);
  }
  configs.Prune({1});
  EXPECT_GE(configs.FdFor(1), 0);
  EXPECT_EQ(configs.FdFor(2), -1);
  EXPECT_GE(configs.FdFor(3), 0) << "the live generation stays";
  EXPECT_EQ(configs.HashFor(2), "");
}

}  // namespace
}  // namespace corral::master
