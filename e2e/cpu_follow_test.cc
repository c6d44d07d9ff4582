// The worker count following the pod's CPUs as an in-place resize
// (KEP-1287) changes them: corral runs in a real cgroup v1 cpu cgroup whose
// cpu.cfs_quota_us the test rewrites at run time, as the kubelet does.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "expect_load.h"
#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

namespace fs = std::filesystem;

constexpr char kCpuRoot[] = "/sys/fs/cgroup/cpu";

// A cpu cgroup of the test's own, removed once its processes are gone.
class CpuCgroup {
 public:
  static std::unique_ptr<CpuCgroup> Make() {
    static int n = 0;
    fs::path dir =
        fs::path(kCpuRoot) / ("corral-e2e-cpu-" + std::to_string(getpid()) +
                              "-" + std::to_string(++n));
    std::error_code ec;
    if (!fs::create_directory(dir, ec)) return nullptr;
    return std::unique_ptr<CpuCgroup>(new CpuCgroup(dir));
  }
  ~CpuCgroup() {
    // The kernel refuses the rmdir while a process is still inside.
    PollUntil(
        [&]() {
          std::error_code ec;
          return fs::remove(dir_, ec) || !fs::exists(dir_);
        },
        10s);
  }
  std::string dir() const { return dir_.string(); }
  // CPUs as the kubelet writes a limit: quota over a 100 ms period; none: -1.
  bool SetQuota(std::optional<double> cpus) const {
    std::ofstream(dir_ / "cpu.cfs_period_us") << 100000;
    std::ofstream out(dir_ / "cpu.cfs_quota_us");
    out << (cpus ? static_cast<int64_t>(*cpus * 100000) : -1);
    out.flush();
    return static_cast<bool>(out);
  }

 private:
  explicit CpuCgroup(fs::path dir) : dir_(std::move(dir)) {}
  fs::path dir_;
};

int AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

struct PoolSeen {
  int wanted = -1;
  int ready = 0;
  int alive = 0;
};

PoolSeen Seen(const CorralProcess& p) {
  PoolSeen seen;
  auto status = nlohmann::json::parse(HttpGet(p.admin_port(), "/status").body,
                                      nullptr, false);
  if (status.is_discarded() || !status.contains("workers_wanted")) return seen;
  seen.wanted = status["workers_wanted"].get<int>();
  for (const auto& w : status["workers"]) {
    ++seen.alive;
    seen.ready += w["state"] == "ready";
  }
  return seen;
}

// Exactly `n` workers: wanted, ready, and no other left draining.
bool Settled(const CorralProcess& p, int n) {
  PoolSeen s = Seen(p);
  return s.wanted == n && s.ready == n && s.alive == n;
}

double WantedMetric(const CorralProcess& p) {
  return Sum(ParseExposition(HttpGet(p.admin_port(), "/metrics").body),
             "corral_workers_wanted");
}

TEST(CpuFollowTest, QuotaWrittenAtRunTimeMovesTheWorkerCountUnderLoad) {
  if (AffinityCpus() < 2) GTEST_SKIP() << "needs 2 CPUs to grow to";
  std::unique_ptr<CpuCgroup> cg = CpuCgroup::Make();
  if (!cg) GTEST_SKIP() << "no writable cgroup v1 cpu controller here";
  ASSERT_TRUE(cg->SetQuota(1.0));
  auto p = CorralProcess::Start({.cgroup = cg->dir()});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  ASSERT_TRUE(Settled(*p, 1)) << "1 CPU of quota: 1 worker\n" << p->Logs();
  const std::string first_pid =
      HttpGet(p->port(), "/products/1").headers["X-Worker-Pid"];
  ASSERT_FALSE(first_pid.empty());

  LoadOptions o;
  o.port = p->port();
  o.connections = 50;
  o.next = StoreMix;
  LoadClient load(std::move(o));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(500, 30s)) << load.Counts().ToString();

  // Up: the quota lifted, as when a resize raises the limit.
  ASSERT_TRUE(cg->SetQuota(std::nullopt));
  ASSERT_TRUE(PollUntil([&]() { return Settled(*p, 2); }, 30s))
      << Seen(*p).wanted << "\n"
      << p->Logs();
  EXPECT_EQ(WantedMetric(*p), 2);
  // The kept-alive load stays on the first worker; new connections reach
  // the new one (the busier worker leaves them to it: Worker::MayAccept).
  ASSERT_TRUE(PollUntil(
      [&]() {
        HttpResult r = HttpGet(p->port(), "/products/1");
        return r.status == 200 && r.headers["X-Worker-Pid"] != first_pid;
      },
      20s))
      << HttpGet(p->admin_port(), "/status").body;
  std::vector<nlohmann::json> changed = p->LogsWithMsg("worker count changed");
  ASSERT_EQ(changed.size(), 1u) << p->Logs();
  EXPECT_EQ(changed[0]["workers"], 2);
  EXPECT_NE(changed[0]["reason"].get<std::string>().find("affinity"),
            std::string::npos)
      << changed[0];

  // Down again: the surplus worker drains while the load runs.
  uint64_t before = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(before + 500, 30s));
  ASSERT_TRUE(cg->SetQuota(0.5));
  ASSERT_TRUE(PollUntil([&]() { return Settled(*p, 1); }, 30s))
      << Seen(*p).wanted << "\n"
      << p->Logs();
  EXPECT_EQ(WantedMetric(*p), 1);
  changed = p->LogsWithMsg("worker count changed");
  ASSERT_EQ(changed.size(), 2u) << p->Logs();
  EXPECT_NE(changed[1]["reason"].get<std::string>().find("cpu.cfs_quota_us"),
            std::string::npos)
      << changed[1];
  EXPECT_EQ(p->LogsWithMsg("draining worker").size(), 1u) << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("draining worker")[0]["reason"], "resize");

  before = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(before + 500, 30s));
  StopAndExpectNoFailures(load);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

// Proxy mode: the app processes and the proxy workers both follow.
TEST(CpuFollowTest, ProxyModeBothPoolsFollowUnderLoad) {
  if (AffinityCpus() < 2) GTEST_SKIP() << "needs 2 CPUs to grow to";
  std::unique_ptr<CpuCgroup> cg = CpuCgroup::Make();
  if (!cg) GTEST_SKIP() << "no writable cgroup v1 cpu controller here";
  ASSERT_TRUE(cg->SetQuota(1.0));
  auto p = CorralProcess::Start(
      {.args = {"--proxy", "--drain-delay=0s"},
       .binary = CORRAL_BIN,
       .command = {"python3", std::string(CORRAL_E2E_APPS) + "/port_app.py"},
       .cgroup = cg->dir()});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  // app processes wanted and alive, proxy workers wanted and alive
  auto pools = [&]() {
    auto j = nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body,
                                   nullptr, false);
    if (j.is_discarded()) return std::string();
    return std::to_string(j["workers_wanted"].get<int>()) + " " +
           std::to_string(j["workers"].size()) + " " +
           std::to_string(j["proxy_workers"]["workers_wanted"].get<int>()) +
           " " + std::to_string(j["proxy_workers"]["workers"].size());
  };
  ASSERT_EQ(pools(), "1 1 1 1");
  LoadOptions o;
  o.port = p->port();
  o.connections = 20;
  LoadClient load(std::move(o));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(200, 30s)) << load.Counts().ToString();
  ASSERT_TRUE(cg->SetQuota(std::nullopt));
  ASSERT_TRUE(PollUntil([&]() { return pools() == "2 2 2 2"; }, 30s))
      << pools() << "\n"
      << p->Logs();
  uint64_t before = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(before + 200, 30s));
  ASSERT_TRUE(cg->SetQuota(0.5));
  ASSERT_TRUE(PollUntil([&]() { return pools() == "1 1 1 1"; }, 30s))
      << pools() << "\n"
      << p->Logs();
  before = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(before + 200, 30s));
  StopAndExpectNoFailures(load);
  EXPECT_EQ(p->LogsWithMsg("worker count changed").size(), 4u) << p->Logs();
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(CpuFollowTest, WorkersFlagWins) {
  std::unique_ptr<CpuCgroup> cg = CpuCgroup::Make();
  if (!cg) GTEST_SKIP() << "no writable cgroup v1 cpu controller here";
  ASSERT_TRUE(cg->SetQuota(1.0));
  auto p = CorralProcess::Start({.args = {"--workers=3"}, .cgroup = cg->dir()});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  ASSERT_TRUE(cg->SetQuota(std::nullopt));
  // Longer than the follower's interval: nothing moves.
  ASSERT_TRUE(p->WaitForLog("all workers ready; serving", 1, 20s));
  EXPECT_FALSE(PollUntil([&]() { return Seen(*p).wanted != 3; }, 5s));
  EXPECT_TRUE(p->LogsWithMsg("worker count changed").empty()) << p->Logs();
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
