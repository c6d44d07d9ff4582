// `corral --listen=ADDR -- CMD`: any program as the workers, handed the
// socket by the systemd socket-activation protocol, ready and watched by the
// notify protocol, rolled and drained by the same supervisor as corral-shop.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "harness.h"

namespace corral::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kApp = std::string(CORRAL_E2E_APPS) + "/notify_app.py";

std::unique_ptr<CorralProcess> Runtime(
    std::vector<std::string> args,
    std::map<std::string, std::string> env = {}) {
  args.push_back("--drain-delay=0s");
  return CorralProcess::Start({.args = std::move(args),
                               .env = std::move(env),
                               .binary = CORRAL_BIN,
                               .command = {"python3", kApp}});
}

nlohmann::json Status(const CorralProcess& p) {
  return nlohmann::json::parse(HttpGet(p.admin_port(), "/status").body);
}

// Replaces a file the way an editor or `kubectl cp` does: never half
// written when the watcher reads it.
void WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = fs::path(path).parent_path() / ".tmp-write";
  std::ofstream(tmp) << text;
  fs::rename(tmp, path);
}

std::string Metrics(const CorralProcess& p) {
  return HttpGet(p.admin_port(), "/metrics").body;
}

TEST(CorralRuntimeTest, EachWorkerGetsTheSocketByTheSystemdProtocol) {
  auto p = Runtime({"--workers=2", "--ready=notify"});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::set<std::string> workers;
  std::set<int> pids;
  // Whichever app process accepts first takes a connection: ask until both
  // have answered, not a fixed number of times (in one make test run one of
  // the two answered none of 40).
  bool answered = true;
  PollUntil(
      [&] {
        HttpResult r = HttpGet(p->port(), "/env");
        if (r.status != 200) {
          ADD_FAILURE() << "status " << r.status << ": " << r.error;
          answered = false;
          return true;
        }
        auto j = nlohmann::json::parse(r.body);
        const auto& env = j["env"];
        EXPECT_EQ(env["LISTEN_FDS"], "1");
        EXPECT_EQ(env["LISTEN_FDNAMES"], "http");
        EXPECT_EQ(env["LISTEN_PID"], std::to_string(j["pid"].get<int>()));
        EXPECT_EQ(env["WATCHDOG_PID"], std::to_string(j["pid"].get<int>()));
        EXPECT_EQ(env["CORRAL_WORKERS"], "2");
        EXPECT_EQ(env["CORRAL_CONFIG_GENERATION"], "1");
        EXPECT_EQ(env["CORRAL_READY_FD"], "4");
        EXPECT_EQ(env["NOTIFY_SOCKET"].get<std::string>().substr(0, 8),
                  "@corral/");
        // stdio, the listener and the ready pipe: nothing else of corral's.
        EXPECT_EQ(j["fds_at_start"], nlohmann::json({0, 1, 2, 3, 4}))
            << j.dump();
        workers.insert(env["CORRAL_WORKER"].get<std::string>());
        pids.insert(j["pid"].get<int>());
        return workers.size() == 2;
      },
      10s);
  ASSERT_TRUE(answered);
  EXPECT_EQ(workers, (std::set<std::string>{"0", "1"}));
  EXPECT_EQ(pids.size(), 2u);
  // No request metrics: corral never sees these requests.
  std::string m = Metrics(*p);
  EXPECT_EQ(m.find("http_server_request_duration_seconds"), std::string::npos);
  EXPECT_NE(m.find("corral_worker_cpu_seconds_total{"), std::string::npos);
  EXPECT_NE(m.find("corral_worker_resident_memory_bytes{"), std::string::npos);
  EXPECT_EQ(Status(*p)["command"][0]["status"], "serving");
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(CorralRuntimeTest, ReplacementThatNeverSaysReadyAbortsTheRoll) {
  std::string marker = fs::temp_directory_path() /
                       ("corral-never-ready-" + std::to_string(getpid()));
  fs::remove(marker);
  auto p =
      Runtime({"--workers=2", "--ready=notify", "--worker-start-timeout=2s"},
              {{"APP_NEVER_READY_IF", marker}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::vector<pid_t> before = p->ChildPids();
  std::ofstream(marker) << "new workers stay silent\n";
  p->Signal(SIGHUP);
  ASSERT_TRUE(
      PollUntil([&]() { return !Status(*p)["last_roll"].is_null(); }, 30s))
      << p->Logs();
  fs::remove(marker);
  auto status = Status(*p);
  EXPECT_EQ(status["last_roll"]["result"], "failed") << status.dump();
  EXPECT_EQ(HttpGet(p->port(), "/env").status, 200) << "old workers serve on";
  std::vector<pid_t> after = p->ChildPids();
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(before, after);
  EXPECT_NE(Metrics(*p).find("corral_rollouts_total{result=\"failed\"} 1"),
            std::string::npos);
}

TEST(CorralRuntimeTest, WorkerWhoseWatchdogStopsIsReplaced) {
  auto p = Runtime({"--workers=1", "--ready=notify", "--worker-timeout=1s"},
                   {{"APP_WATCHDOG_FOR", "0.5"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  ASSERT_TRUE(
      p->WaitForLog("worker stopped making progress (no heartbeat)", 1, 20s))
      << p->Logs();
  EXPECT_TRUE(PollUntil(
      [&]() {
        return Metrics(*p).find(
                   "corral_worker_restarts_total{reason=\"timeout\"} 1") !=
               std::string::npos;
      },
      20s));
  // Its replacement serves.
  EXPECT_TRUE(PollUntil(
      [&]() { return HttpGet(p->port(), "/env").status == 200; }, 20s));
}

TEST(CorralRuntimeTest, ConfigSnapshotDirectoryPerGeneration) {
  std::string dir = fs::temp_directory_path() /
                    ("corral-cmd-config-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/banner") << "first";
  auto p = Runtime({"--workers=1", "--ready=notify", "--config-dir=" + dir});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto env = nlohmann::json::parse(HttpGet(p->port(), "/env").body)["env"];
  std::string snapshot = env["CORRAL_CONFIG_DIR"];
  std::ifstream first(snapshot + "/banner");
  std::string text;
  first >> text;
  EXPECT_EQ(text, "first");
  EXPECT_EQ(env["CORRAL_CONFIG_GENERATION"], "1");

  WriteAtomically(dir + "/banner", "second");
  nlohmann::json env2;  // from a worker of the new generation
  ASSERT_TRUE(PollUntil(
      [&]() {
        env2 = nlohmann::json::parse(HttpGet(p->port(), "/env").body)["env"];
        return env2["CORRAL_CONFIG_GENERATION"] == "2";
      },
      30s))
      << p->Logs();
  std::ifstream second(env2["CORRAL_CONFIG_DIR"].get<std::string>() +
                       "/banner");
  second >> text;
  EXPECT_EQ(text, "second");
  // The first generation's directory goes once no worker runs it.
  EXPECT_TRUE(PollUntil([&]() { return !fs::exists(snapshot); }, 30s));
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
  fs::remove_all(dir);
}

TEST(CorralRuntimeTest, ConfigCheckRejectsBeforeAnyRoll) {
  std::string dir = fs::temp_directory_path() /
                    ("corral-cmd-check-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/banner") << "fine 1";
  auto p =
      Runtime({"--workers=1", "--ready=notify", "--config-dir=" + dir,
               "--config-check=grep -q fine \"$CORRAL_CONFIG_DIR/banner\" || "
               "{ echo 'the banner must say fine'; exit 3; }"});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();

  WriteAtomically(dir + "/banner", "bad");
  ASSERT_TRUE(p->WaitForLog(
      "config change rejected; workers keep the last good config", 1, 30s))
      << p->Logs();
  auto status = Status(*p);
  EXPECT_EQ(status["config"]["rejected_total"], 1);
  std::string error = status["config"]["last_rejection"]["error"];
  EXPECT_NE(error.find("exited with code 3"), std::string::npos) << error;
  EXPECT_NE(error.find("the banner must say fine"), std::string::npos) << error;
  EXPECT_TRUE(p->LogsWithMsg("rolling workers one at a time").empty());

  WriteAtomically(dir + "/banner", "fine 2");
  ASSERT_TRUE(PollUntil(
      [&]() {
        auto s = Status(*p);
        return s["state"] == "serving" && s["last_roll"].is_object() &&
               s["last_roll"]["generation"] == 2;
      },
      30s))
      << p->Logs();
  auto e = nlohmann::json::parse(HttpGet(p->port(), "/env").body)["env"];
  EXPECT_EQ(e["CORRAL_CONFIG_GENERATION"], "2");
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace corral::e2e
