#include "cpu/cpu_count.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace corral::cpu {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(CORRAL_FIXTURES) + "/cgroup/" + name;
}

CpuCount FromFixture(const std::string& name, int affinity) {
  std::ifstream in(Fixture(name) + "/proc_self_cgroup");
  std::stringstream ss;
  ss << in.rdbuf();
  return DetectFrom(Fixture(name) + "/root", ss.str(), affinity);
}

TEST(ParseCpuMaxTest, QuotaAndPeriod) {
  auto q = ParseCpuMax("150000 100000\n");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->has_value());
  EXPECT_DOUBLE_EQ(**q, 1.5);
}

TEST(ParseCpuMaxTest, MaxMeansNoLimit) {
  auto q = ParseCpuMax("max 100000");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->has_value());
}

TEST(ParseCpuMaxTest, RejectsGarbage) {
  EXPECT_FALSE(ParseCpuMax("").ok());
  EXPECT_FALSE(ParseCpuMax("lots 100000").ok());
  EXPECT_FALSE(ParseCpuMax("100000 0").ok());
  EXPECT_FALSE(ParseCpuMax("1 2 3").ok());
}

TEST(ParseCfsQuotaTest, MinusOneMeansNoLimit) {
  auto q = ParseCfsQuota("-1\n", "100000\n");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->has_value());
}

TEST(ParseCfsQuotaTest, Limit) {
  auto q = ParseCfsQuota("250000", "100000");
  ASSERT_TRUE(q.ok());
  EXPECT_DOUBLE_EQ(q->value(), 2.5);
  EXPECT_FALSE(ParseCfsQuota("x", "100000").ok());
  EXPECT_FALSE(ParseCfsQuota("1000", "0").ok());
}

TEST(DeriveTest, RoundsQuotaUpAndCapsByAffinity) {
  EXPECT_EQ(Derive(8, 1.5, "f").workers, 2);
  EXPECT_EQ(Derive(8, 2.0, "f").workers, 2);
  EXPECT_EQ(Derive(8, 0.1, "f").workers, 1);
  EXPECT_EQ(Derive(2, 16.0, "f").workers, 2);
  EXPECT_EQ(Derive(4, std::nullopt, "").workers, 4);
  EXPECT_EQ(Derive(0, std::nullopt, "").workers, 1);
}

TEST(DeriveTest, ExplainsItself) {
  CpuCount c = Derive(8, 1.5, "/sys/fs/cgroup/cpu.max");
  EXPECT_NE(c.how.find("ceil"), std::string::npos) << c.how;
  EXPECT_NE(c.how.find("cpu.max"), std::string::npos) << c.how;
  EXPECT_NE(c.how.find("= 2"), std::string::npos) << c.how;
}

TEST(DetectFromTest, V2LimitInNestedCgroup) {
  CpuCount c = FromFixture("v2_limit", 64);
  EXPECT_EQ(c.workers, 2);
  ASSERT_TRUE(c.quota_cpus.has_value());
  EXPECT_DOUBLE_EQ(*c.quota_cpus, 2.0);
  EXPECT_NE(c.source.find("kubepods/pod1/ctr/cpu.max"), std::string::npos);
}

TEST(DetectFromTest, V2NoLimitUsesAffinity) {
  CpuCount c = FromFixture("v2_nolimit", 6);
  EXPECT_EQ(c.workers, 6);
  EXPECT_FALSE(c.quota_cpus.has_value());
}

TEST(DetectFromTest, V2Fractional1500m) {
  EXPECT_EQ(FromFixture("v2_fractional", 64).workers, 2);
}

TEST(DetectFromTest, V2TinyQuotaStillOneWorker) {
  EXPECT_EQ(FromFixture("v2_small", 64).workers, 1);
}

TEST(DetectFromTest, V1Limit) {
  CpuCount c = FromFixture("v1_limit", 64);
  EXPECT_EQ(c.workers, 3);
  EXPECT_NE(c.source.find("cpu.cfs_quota_us"), std::string::npos);
}

TEST(DetectFromTest, V1NoLimit) {
  EXPECT_EQ(FromFixture("v1_nolimit", 5).workers, 5);
}

TEST(DetectFromTest, CpusetNarrowerThanQuota) {
  // A cpuset of 2 CPUs shows as affinity 2; a quota of 3 does not add more.
  EXPECT_EQ(FromFixture("v1_limit", 2).workers, 2);
}

TEST(DetectFromTest, HybridHostReadsV1CpuController) {
  CpuCount c = FromFixture("hybrid", 4);
  EXPECT_EQ(c.workers, 1);
  ASSERT_TRUE(c.quota_cpus.has_value());
  EXPECT_DOUBLE_EQ(*c.quota_cpus, 0.5);
}

TEST(DetectFromTest, GarbageIsIgnoredAndSaidSo) {
  CpuCount c = FromFixture("garbage", 3);
  EXPECT_EQ(c.workers, 3);
  EXPECT_NE(c.how.find("unreadable"), std::string::npos) << c.how;
}

TEST(DetectFromTest, MissingFilesMeanNoLimit) {
  CpuCount c = DetectFrom("/nonexistent", "0::/\n", 3);
  EXPECT_EQ(c.workers, 3);
}

}  // namespace
}  // namespace corral::cpu
