#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config_dir.h"
#include "config/config_watcher.h"

namespace corral::config {
namespace {

namespace fs = std::filesystem;

ConfigSpec Spec() {
  ConfigSpec spec;
  spec.keys = {{"limit", KeyType::kInt, "10", ""},
               {"ratio", KeyType::kDouble, "0.5", ""},
               {"on", KeyType::kBool, "false", ""},
               {"name", KeyType::kString, "shop", ""},
               {"doc.json", KeyType::kJson, "{}", ""}};
  spec.validate = [](const Config& c) -> absl::Status {
    if (c.Get("limit").get<int64_t>() < 0) {
      return absl::InvalidArgumentError("limit must not be negative");
    }
    return absl::OkStatus();
  };
  return spec;
}

TEST(ConfigParseTest, DefaultsAndTypes) {
  auto c = Config::Parse(Spec(),
                         {{"limit", "42\n"}, {"on", "true"}, {"extra", "x"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Get("limit"), 42);
  EXPECT_EQ(c->Get("ratio"), 0.5);
  EXPECT_EQ(c->Get("on"), true);
  EXPECT_EQ(c->Get("name"), "shop");
  EXPECT_TRUE(c->Get("doc.json").is_object());
  EXPECT_EQ(c->present(), (std::vector<std::string>{"limit", "on"}));
  EXPECT_EQ(c->ignored(), std::vector<std::string>{"extra"});
}

TEST(ConfigParseTest, EveryProblemIsNamed) {
  auto c = Config::Parse(Spec(), {{"limit", "ten"}, {"doc.json", "{"}});
  ASSERT_FALSE(c.ok());
  std::string m(c.status().message());
  EXPECT_NE(m.find("limit: expected an integer"), std::string::npos) << m;
  EXPECT_NE(m.find("doc.json: expected JSON"), std::string::npos) << m;
  auto v = Config::Parse(Spec(), {{"limit", "-1"}});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("limit must not be negative"),
            std::string::npos);
}

TEST(ConfigParseTest, HashIsStableAndContentSensitive) {
  Snapshot a = {{"ab", "c"}};
  Snapshot b = {{"a", "bc"}};
  EXPECT_EQ(HashSnapshot(a), HashSnapshot(Snapshot{{"ab", "c"}}));
  EXPECT_NE(HashSnapshot(a), HashSnapshot(b));
  EXPECT_EQ(HashSnapshot(a).size(), 16u);
  auto round = SnapshotFromJson(SnapshotToJson({{"k", "v\n\"q\""}}));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->at("k"), "v\n\"q\"");
}

class ConfigDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("corral-config-unit-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ConfigDirTest, KubeletLayoutReadsOneGeneration) {
  fs::create_directories(dir_ + "/..2026_01_01_00_00_00.1");
  fs::create_directories(dir_ + "/..2026_01_01_00_00_01.2");
  std::ofstream(dir_ + "/..2026_01_01_00_00_00.1/a") << "old";
  std::ofstream(dir_ + "/..2026_01_01_00_00_01.2/a") << "new";
  std::ofstream(dir_ + "/..2026_01_01_00_00_01.2/b") << "added";
  fs::create_symlink("..2026_01_01_00_00_01.2", dir_ + "/..data");
  fs::create_symlink("..data/a", dir_ + "/a");  // b's link not made yet
  auto s = ReadSnapshot(dir_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (Snapshot{{"a", "new"}, {"b", "added"}}));
}

TEST_F(ConfigDirTest, PlainDirectorySkipsDotFilesAndDirectories) {
  std::ofstream(dir_ + "/sale.json") << "{}";
  std::ofstream(dir_ + "/.sale.json.swp") << "junk";
  fs::create_directories(dir_ + "/sub");
  auto s = ReadSnapshot(dir_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (Snapshot{{"sale.json", "{}"}}));
}

TEST_F(ConfigDirTest, MissingDirectoryIsAnError) {
  auto s = ReadSnapshot(dir_ + "/nope");
  EXPECT_FALSE(s.ok());
}

TEST(ConfigWatcherTest, RelevantEvents) {
  EXPECT_TRUE(IsRelevantEvent("..data", IN_MOVED_TO));
  EXPECT_FALSE(IsRelevantEvent("..data_tmp", IN_CREATE));
  EXPECT_FALSE(IsRelevantEvent("..data_tmp", IN_MOVED_FROM));
  EXPECT_FALSE(
      IsRelevantEvent("..2026_01_01_00_00_00.1", IN_CREATE | IN_ISDIR));
  EXPECT_TRUE(IsRelevantEvent("sale.json", IN_CLOSE_WRITE));
  EXPECT_TRUE(IsRelevantEvent("sale.json", IN_MOVED_TO));
  EXPECT_TRUE(IsRelevantEvent("sale.json", IN_DELETE));
  EXPECT_FALSE(IsRelevantEvent(".sale.json.swp", IN_CLOSE_WRITE));
}

}  // namespace
}  // namespace corral::config
