#include "command/snapshot_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "master/config_generations.h"

namespace corral::command {
namespace {

namespace fs = std::filesystem;

class FixedClock : public clock::Clock {
 public:
  int64_t Now() const override { return 1; }
  int64_t UnixNow() const override { return 1; }
};

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The master's sealed snapshots (ConfigGenerations) as a copy reads them.
TEST(SnapshotDirTest, OneDirectoryPerGenerationInUseAndNoMore) {
  config::ConfigSpec any;  // a command validates its own keys
  FixedClock clock;
  master::ConfigGenerations configs(any, clock);
  ASSERT_EQ(configs.Offer(config::Snapshot{{"banner", "one"}}, "t").generation,
            1);
  ASSERT_EQ(configs.Offer(config::Snapshot{{"banner", "two"}}, "t").generation,
            2);
  std::string root = ::testing::TempDir() + "/snapshot-dirs-XXXXXX";
  ASSERT_NE(mkdtemp(root.data()), nullptr);
  SnapshotDirs dirs(root, [&](int64_t g) { return configs.FdFor(g); });

  auto one = dirs.For(1);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, root + "/config-1");
  EXPECT_EQ(Read(*one + "/banner"), "one");
  auto two = dirs.For(2);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(Read(*two + "/banner"), "two");
  EXPECT_EQ(*dirs.For(2), *two) << "written once, then reused";

  dirs.Prune({2});
  EXPECT_FALSE(fs::exists(*one));
  EXPECT_TRUE(fs::exists(*two));
  EXPECT_FALSE(dirs.For(9).ok()) << "no snapshot for a generation unknown";
  fs::remove_all(root);
}

}  // namespace
}  // namespace corral::command
