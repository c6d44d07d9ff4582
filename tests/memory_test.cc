#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "memory/cgroup_memory.h"
#include "memory/process_memory.h"

namespace corral::memory {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(CORRAL_FIXTURES) + "/memory/" + name;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<MemoryCgroup> LocateFixture(const std::string& name) {
  return LocateFrom(Fixture(name) + "/root",
                    ReadText(Fixture(name) + "/proc_self_cgroup"));
}

TEST(ParseLimitTest, BytesMaxAndV1sNoLimit) {
  auto limit = ParseLimit("314572800\n");
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(*limit, std::optional<int64_t>(314572800));
  limit = ParseLimit("max\n");
  ASSERT_TRUE(limit.ok());
  EXPECT_FALSE(limit->has_value());
  limit = ParseLimit("9223372036854771712");
  ASSERT_TRUE(limit.ok());
  EXPECT_FALSE(limit->has_value());
}

TEST(ParseLimitTest, RejectsGarbage) {
  EXPECT_FALSE(ParseLimit("").ok());
  EXPECT_FALSE(ParseLimit("lots").ok());
  EXPECT_FALSE(ParseLimit("-1").ok());
  EXPECT_FALSE(ParseBytes("1 2").ok());
}

TEST(KeyedValueTest, FindsTheKeyNotAPrefixOfIt) {
  const std::string events = "oom 3\noom_kill 2\noom_group_kill 0\n";
  EXPECT_EQ(KeyedValue(events, "oom_kill"), std::optional<uint64_t>(2));
  EXPECT_EQ(KeyedValue(events, "oom"), std::optional<uint64_t>(3));
  EXPECT_FALSE(KeyedValue(events, "max").has_value());
}

TEST(MemoryCgroupTest, V2LimitWorkingSetAndOomKills) {
  std::optional<MemoryCgroup> cg = LocateFixture("v2_limit");
  ASSERT_TRUE(cg.has_value());
  EXPECT_TRUE(cg->v2);
  absl::StatusOr<MemoryFigures> f = Read(*cg);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->limit_bytes, std::optional<int64_t>(314572800));
  EXPECT_EQ(f->usage_bytes, 293601280);
  EXPECT_EQ(f->working_set(), 293601280 - 16777216);
  EXPECT_EQ(f->oom_kills, std::optional<uint64_t>(2));
}

TEST(MemoryCgroupTest, V2WithoutLimit) {
  std::optional<MemoryCgroup> cg = LocateFixture("v2_nolimit");
  ASSERT_TRUE(cg.has_value());
  absl::StatusOr<MemoryFigures> f = Read(*cg);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->limit_bytes.has_value());
  EXPECT_EQ(f->oom_kills, std::optional<uint64_t>(0));
}

TEST(MemoryCgroupTest, V1TakesTheLowerHierarchicalLimit) {
  std::optional<MemoryCgroup> cg = LocateFixture("v1_limit");
  ASSERT_TRUE(cg.has_value());
  EXPECT_FALSE(cg->v2);
  absl::StatusOr<MemoryFigures> f = Read(*cg);
  ASSERT_TRUE(f.ok()) << f.status();
  // The pod's limit (memory.stat) is below the container's own.
  EXPECT_EQ(f->limit_bytes, std::optional<int64_t>(314572800));
  EXPECT_EQ(f->working_set(), 300000000 - 10000000);
  EXPECT_EQ(f->oom_kills, std::optional<uint64_t>(5));
}

TEST(MemoryCgroupTest, V1WithoutLimitOnAnOldKernel) {
  std::optional<MemoryCgroup> cg = LocateFixture("v1_nolimit");
  ASSERT_TRUE(cg.has_value());
  absl::StatusOr<MemoryFigures> f = Read(*cg);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->limit_bytes.has_value());
  EXPECT_FALSE(f->oom_kills.has_value());
}

TEST(MemoryCgroupTest, HybridHostUsesV1WhenV2HasNoMemoryController) {
  std::optional<MemoryCgroup> cg = LocateFixture("hybrid");
  ASSERT_TRUE(cg.has_value());
  EXPECT_FALSE(cg->v2);
  absl::StatusOr<MemoryFigures> f = Read(*cg);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->limit_bytes, std::optional<int64_t>(209715200));
}

TEST(MemoryCgroupTest, GarbageIsAnErrorThatSaysWhat) {
  std::optional<MemoryCgroup> cg = LocateFixture("garbage");
  ASSERT_TRUE(cg.has_value());
  absl::StatusOr<MemoryFigures> f = Read(*cg);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("lots"), std::string::npos);
}

TEST(MemoryCgroupTest, NoneFound) {
  EXPECT_FALSE(LocateFrom(Fixture("nowhere"), "0::/\n").has_value());
}

TEST(ProcessMemoryTest, PrivateIsCleanPlusDirty) {
  EXPECT_EQ(ParsePrivateBytes("Rss: 4136 kB\nPrivate_Clean:   16 kB\n"
                              "Private_Dirty:  280 kB\n"),
            std::optional<int64_t>(296 * 1024));
  EXPECT_FALSE(ParsePrivateBytes("Rss: 4136 kB\n").has_value());
  EXPECT_EQ(ParseRssBytes("Name:\tx\nVmRSS:\t  1000 kB\n"),
            std::optional<int64_t>(1000 * 1024));
}

TEST(ProcessMemoryTest, TheWholeTreeCountsWithRssWhereNoRollup) {
  const std::string proc = std::string(CORRAL_FIXTURES) + "/proc";
  std::vector<pid_t> tree = ProcessTree(100, proc);
  std::sort(tree.begin(), tree.end());
  EXPECT_EQ(tree, (std::vector<pid_t>{100, 101, 103}));
  // 100: 296 kB private; 101: VmRSS 1000 kB; 103: 100 kB private.
  EXPECT_EQ(TreeMemory(100, proc), std::optional<int64_t>(1396 * 1024));
  EXPECT_FALSE(TreeMemory(99, proc).has_value());
}

}  // namespace
}  // namespace corral::memory
