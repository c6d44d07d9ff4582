#include "cpu/cpu_count.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// The kubelet's mapping of a request to v1 shares and v2 weight (K8S.md).
int64_t SharesFor(int64_t millicores) {
  return std::max<int64_t>(2, millicores * 1024 / 1000);
}
int64_t WeightFor(int64_t millicores) {
  return 1 + ((SharesFor(millicores) - 2) * 9999) / 262142;
}

TEST(ParseCpuSharesTest, SharesAreMillicoresTimes1024Over1000) {
  auto r = ParseCpuShares(std::to_string(SharesFor(1500)), true);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_DOUBLE_EQ(**r, 1.5);
}

TEST(ParseCpuSharesTest, BestEffortAndTheKernelDefaultMeanNoRequest) {
  EXPECT_FALSE(ParseCpuShares("2\n", true)->has_value());
  // 1024 outside kubepods is the kernel's default, not a 1000m request...
  EXPECT_FALSE(ParseCpuShares("1024\n", false)->has_value());
  // ...and inside it, exactly 1 CPU.
  EXPECT_DOUBLE_EQ(ParseCpuShares("1024\n", true)->value(), 1.0);
  EXPECT_DOUBLE_EQ(ParseCpuShares("512\n", false)->value(), 0.5);
  EXPECT_FALSE(ParseCpuShares("lots", true).ok());
  EXPECT_FALSE(ParseCpuShares("0", true).ok());
}

TEST(ParseCpuWeightTest, WholeRequestsComeBackWhole) {
  for (int64_t cpus : {1, 2, 3, 4, 8, 16, 32, 64}) {
    auto r = ParseCpuWeight(std::to_string(WeightFor(cpus * 1000)), true);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->has_value()) << cpus;
    EXPECT_EQ(static_cast<int>(std::ceil(**r - 1e-9)), cpus)
        << cpus << " CPUs: weight " << WeightFor(cpus * 1000) << " read as "
        << **r;
  }
}

TEST(ParseCpuWeightTest, FractionsWithinOneWeightStep) {
  for (int64_t m : {100, 250, 500, 1500, 2500, 7300}) {
    auto r = ParseCpuWeight(std::to_string(WeightFor(m)), true);
    ASSERT_TRUE(r.ok() && r->has_value()) << m;
    EXPECT_NEAR(**r, m / 1000.0, 0.03) << m << "m";
  }
}

TEST(ParseCpuWeightTest, BestEffortAndTheKernelDefaultMeanNoRequest) {
  EXPECT_EQ(WeightFor(0), 1);
  EXPECT_FALSE(ParseCpuWeight("1\n", true)->has_value());
  EXPECT_FALSE(ParseCpuWeight("100\n", false)->has_value());
  EXPECT_TRUE(ParseCpuWeight("100\n", true)->has_value());
  EXPECT_FALSE(ParseCpuWeight("10001", true).ok());
  EXPECT_FALSE(ParseCpuWeight("-3", true).ok());
}

TEST(DeriveFromRequestTest, RoundsUpAndCapsByAffinity) {
  EXPECT_EQ(DeriveFromRequest(64, 1.5, "f").workers, 2);
  EXPECT_EQ(DeriveFromRequest(64, 0.1, "f").workers, 1);
  EXPECT_EQ(DeriveFromRequest(2, 8.0, "f").workers, 2);
  CpuCount c = DeriveFromRequest(64, 2.0, "/x/cpu.weight");
  EXPECT_EQ(c.workers, 2);
  EXPECT_NE(c.how.find("request"), std::string::npos) << c.how;
  EXPECT_NE(c.how.find("cpu.weight"), std::string::npos) << c.how;
}

TEST(DetectFromTest, V2RequestWithoutLimitNotTheNodesCores) {
  // weight 79: a 2000m request, on a 64-core node.
  CpuCount c = FromFixture("v2_request", 64);
  EXPECT_EQ(c.workers, 2);
  EXPECT_FALSE(c.quota_cpus.has_value());
  ASSERT_TRUE(c.request_cpus.has_value());
  EXPECT_NE(c.source.find("cpu.weight"), std::string::npos) << c.source;
}

TEST(DetectFromTest, V2RequestInACgroupNamespace) {
  // "0::/" as with a cgroup namespace; weight 39 is a 1000m request.
  EXPECT_EQ(FromFixture("v2_request_ns", 64).workers, 1);
}

TEST(DetectFromTest, V2DefaultWeightOutsideKubepodsIsNoRequest) {
  EXPECT_EQ(FromFixture("v2_default_weight", 6).workers, 6);
}

TEST(DetectFromTest, V2BestEffortUsesAffinity) {
  CpuCount c = FromFixture("v2_besteffort", 6);
  EXPECT_EQ(c.workers, 6);
  EXPECT_FALSE(c.request_cpus.has_value());
}

TEST(DetectFromTest, V1RequestWithoutLimit) {
  // shares 1536: a 1500m request.
  CpuCount c = FromFixture("v1_request", 64);
  EXPECT_EQ(c.workers, 2);
  ASSERT_TRUE(c.request_cpus.has_value());
  EXPECT_DOUBLE_EQ(*c.request_cpus, 1.5);
  EXPECT_NE(c.source.find("cpu.shares"), std::string::npos) << c.source;
}

TEST(DetectFromTest, V1DefaultSharesOutsideKubepodsIsNoRequest) {
  EXPECT_EQ(FromFixture("v1_default_shares", 5).workers, 5);
}

TEST(DetectFromTest, LimitWinsOverRequest) {
  CpuCount c = FromFixture("v1_limit_and_request", 64);
  EXPECT_EQ(c.workers, 3);
  EXPECT_FALSE(c.request_cpus.has_value());
}

}  // namespace
}  // namespace corral::cpu
