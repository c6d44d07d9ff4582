// The ConfigMap workflow: the kubelet's atomic updates roll the workers to a
// validated new generation under load; broken edits change nothing.
#include "config/config.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "atomic_writer.h"
#include "expect_load.h"
#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

namespace fs = std::filesystem;

const char kCart[] = R"({"items":[{"id":1,"quantity":1}]})";

int64_t CheckoutTotal(const CorralProcess& p,
                      std::string* generation = nullptr) {
  HttpResult r = HttpPost(p.port(), "/checkout", kCart);
  EXPECT_EQ(r.status, 200) << r.body << r.error;
  if (generation) *generation = r.headers["X-Config-Generation"];
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_discarded() ? -1 : j.value("total_cents", int64_t{-1});
}

nlohmann::json Status(const CorralProcess& p) {
  return nlohmann::json::parse(HttpGet(p.admin_port(), "/status").body);
}

// Every live worker serves `generation` and nothing else is starting.
bool AllWorkersOn(const CorralProcess& p, int64_t generation) {
  auto s = Status(p);
  if (s["state"] != "serving") return false;
  int ready = 0;
  for (const auto& w : s["workers"]) {
    if (w["state"] == "ready") {
      if (w["generation"] != generation) return false;
      ++ready;
    }
  }
  return ready == s["workers_wanted"].get<int>();
}

double Metric(const CorralProcess& p, const std::string& series) {
  std::string text = HttpGet(p.admin_port(), "/metrics").body;
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

LoadOptions MixedLoad(uint16_t port) {
  LoadOptions o;
  o.port = port;
  o.connections = 100;
  o.next = [](uint64_t n) -> RequestSpec {
    if (n % 4 == 3) return {"POST", "/checkout", kCart};
    return {"GET", "/products/" + std::to_string(1 + n % 500), ""};
  };
  return o;
}

// A config dir per test, removed afterwards even when the test fails, and
// the store started on it.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("corral-" +
         std::string(
             ::testing::UnitTest::GetInstance()->current_test_info()->name()) +
         "-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    writer_ = std::make_unique<AtomicWriter>(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CorralProcess> StartShop(int workers) {
    return CorralProcess::Start(
        {.args = {"--workers=" + std::to_string(workers),
                  "--config-dir=" + dir_}});
  }

  std::string dir_;
  std::unique_ptr<AtomicWriter> writer_;
};

TEST_F(ConfigTest, DiscountChangeRollsEveryWorkerUnderLoad) {
  writer_->Write({{"sale.json", R"({"discount_percent": 0})"}});
  auto p = StartShop(2);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::string gen;
  int64_t full_price = CheckoutTotal(*p, &gen);
  EXPECT_EQ(gen, "1");

  LoadClient load(MixedLoad(p->port()));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(1000, 30s));
  writer_->Write({{"sale.json", R"({"discount_percent": 20})"}});
  ASSERT_TRUE(p->WaitForLog(
      "config changed; rolling workers to the new generation", 1, 10s))
      << p->Logs();
  ASSERT_TRUE(PollUntil([&]() { return AllWorkersOn(*p, 2); }, 30s))
      << p->Logs();
  uint64_t at_roll = load.Counts().completed();
  ASSERT_TRUE(load.WaitForCompleted(at_roll + 1000, 30s));
  StopAndExpectNoFailures(load);

  // Every new connection now lands on generation 2, with the new price.
  std::set<std::string> pids;
  for (int i = 0; i < 20; ++i) {
    HttpResult r = HttpPost(p->port(), "/checkout", kCart);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["X-Config-Generation"], "2");
    EXPECT_EQ(
        r.headers["X-Config-Hash"],
        config::HashSnapshot({{"sale.json", R"({"discount_percent": 20})"}}));
    pids.insert(r.headers["X-Worker-Pid"]);
  }
  int64_t sale_price = CheckoutTotal(*p);
  EXPECT_LT(sale_price, full_price);
  EXPECT_NEAR(static_cast<double>(sale_price), full_price * 0.8, 2.0);
  EXPECT_EQ(Metric(*p, "corral_config_generation"), 2);
  auto status = Status(*p);
  EXPECT_EQ(status["config"]["generation"], 2);
  EXPECT_EQ(status["last_roll"]["result"], "success");
  EXPECT_EQ(p->ProbeStatus("/readyz"), 200);
  // Worker logs carry their generation.
  bool worker_logged_gen2 = false;
  for (const auto& line : p->LogsWithMsg("worker started serving")) {
    worker_logged_gen2 |= line["role"] == "worker" && line["generation"] == 2;
  }
  EXPECT_TRUE(worker_logged_gen2);
}

TEST_F(ConfigTest, BrokenEditsChangeNothingButCount) {
  writer_->Write({{"sale.json", R"({"discount_percent": 10})"}});
  auto p = StartShop(2);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  int64_t price = CheckoutTotal(*p);
  std::vector<pid_t> workers = p->ChildPids();

  writer_->Write({{"sale.json", R"({"discount_percent": 10,)"}});  // bad JSON
  ASSERT_TRUE(p->WaitForLog(
      "config change rejected; workers keep the last good config", 1, 10s));
  writer_->Write({{"sale.json", R"({"discount_percent": -5})"}});  // bad value
  ASSERT_TRUE(p->WaitForLog(
      "config change rejected; workers keep the last good config", 2, 10s));
  auto rejected = p->LogsWithMsg(
      "config change rejected; workers keep the last good config");
  EXPECT_NE(rejected[0]["error"].get<std::string>().find("not valid JSON"),
            std::string::npos)
      << rejected[0].dump();
  EXPECT_NE(rejected[1]["error"].get<std::string>().find("discount_percent"),
            std::string::npos)
      << rejected[1].dump();

  EXPECT_EQ(Metric(*p, "corral_config_reload_failures_total"), 2);
  EXPECT_TRUE(p->LogsWithMsg("rolling workers one at a time").empty())
      << "no roll";
  std::string gen;
  EXPECT_EQ(CheckoutTotal(*p, &gen), price);
  EXPECT_EQ(gen, "1");
  auto after = p->ChildPids();
  std::sort(workers.begin(), workers.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(workers, after);
  auto status = Status(*p);
  EXPECT_EQ(status["config"]["generation"], 1);
  EXPECT_EQ(status["config"]["rejected_total"], 2);
  EXPECT_NE(status["config"]["last_rejection"]["error"].get<std::string>().find(
                "discount_percent"),
            std::string::npos);

  // Writing back the live content is no change: no roll either.
  writer_->Write({{"sale.json", R"({"discount_percent": 10})"}});
  ASSERT_TRUE(p->WaitForLog(
      "config files changed but their content did not; no roll", 1, 10s));
  EXPECT_TRUE(p->LogsWithMsg("rolling workers one at a time").empty());
}

TEST_F(ConfigTest, QuickSuccessionEndsOnTheLastGenerationOneRollAtATime) {
  writer_->Write({{"sale.json", R"({"discount_percent": 0})"}});
  auto p = StartShop(2);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  LoadClient load(MixedLoad(p->port()));
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(500, 30s));
  std::map<std::string, std::string> last;
  // Five writes back to back: they may share a debounce window or land
  // mid-roll; either way the end state is the last one.
  for (int i = 1; i <= 5; ++i) {
    last = {{"sale.json", "{\"discount_percent\": " + std::to_string(i) + "}"}};
    writer_->Write(last);
  }
  int64_t final_generation = 0;
  ASSERT_TRUE(PollUntil(
      [&]() {
        auto s = Status(*p);
        final_generation = s["config"]["generation"].get<int64_t>();
        return s["config"]["hash"] == config::HashSnapshot(last) &&
               AllWorkersOn(*p, final_generation);
      },
      60s))
      << p->Logs();
  // Five more, each accepted before the next: later ones land mid-roll and
  // restart it at the newest generation.
  size_t changes =
      p->LogsWithMsg("config changed; rolling workers to the new generation")
          .size();
  for (int i = 1; i <= 5; ++i) {
    last = {{"sale.json",
             "{\"discount_percent\": " + std::to_string(10 + i) + "}"}};
    writer_->Write(last);
    ASSERT_TRUE(
        p->WaitForLog("config changed; rolling workers to the new generation",
                      changes + i, 10s))
        << p->Logs();
  }
  final_generation += 5;
  ASSERT_TRUE(
      PollUntil([&]() { return AllWorkersOn(*p, final_generation); }, 60s))
      << p->Logs();
  StopAndExpectNoFailures(load);

  HttpResult r = HttpPost(p->port(), "/checkout", kCart);
  EXPECT_EQ(r.headers["X-Config-Generation"], std::to_string(final_generation));
  EXPECT_EQ(r.headers["X-Config-Hash"], config::HashSnapshot(last));
  // Rolls never overlap: each start is preceded by the end of the previous.
  int open = 0;
  for (const auto& line : p->LogLines()) {
    std::string msg = line.value("msg", "");
    if (msg == "rolling workers one at a time") {
      EXPECT_EQ(open, 0) << "two rolls at once";
      open = 1;
    } else if (msg == "roll finished" ||
               msg == "roll aborted; the remaining old workers keep serving") {
      open = 0;
    }
  }
  auto finished = p->LogsWithMsg("roll finished");
  ASSERT_FALSE(finished.empty());
  EXPECT_EQ(finished.back()["result"], "success");
  EXPECT_EQ(finished.back()["generation"], final_generation);
}

TEST_F(ConfigTest, KeyAddedAndKeyRemovedInOneUpdate) {
  writer_->Write(
      {{"sale.json", "{}"}, {"banner", "Doorbusters at midnight\n"}});
  auto p = StartShop(2);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto index = nlohmann::json::parse(HttpGet(p->port(), "/").body);
  EXPECT_EQ(index["banner"], "Doorbusters at midnight");
  EXPECT_TRUE(index["features"].empty());

  writer_->Write({{"sale.json", "{}"},
                  {"features.json", R"({"express_checkout": true})"}});
  ASSERT_TRUE(PollUntil([&]() { return AllWorkersOn(*p, 2); }, 30s))
      << p->Logs();
  index = nlohmann::json::parse(HttpGet(p->port(), "/").body);
  EXPECT_EQ(index["banner"], "") << "the removed key is gone";
  EXPECT_EQ(index["features"]["express_checkout"], true)
      << "the new key is seen";
  auto changed =
      p->LogsWithMsg("config changed; rolling workers to the new generation");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0]["keys"], nlohmann::json({"features.json", "sale.json"}));
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "banner"));
}

TEST_F(ConfigTest, PlainDirectoryEditedInPlaceAndReplaced) {
  std::ofstream(dir_ + "/sale.json") << R"({"discount_percent": 0})";
  auto p = StartShop(1);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  std::ofstream(dir_ + "/sale.json", std::ios::trunc)
      << R"({"discount_percent": 50})";
  ASSERT_TRUE(PollUntil([&]() { return AllWorkersOn(*p, 2); }, 30s))
      << p->Logs();

  // The directory itself is replaced: the watch re-arms and sees the content.
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/sale.json") << R"({"discount_percent": 25})";
  ASSERT_TRUE(PollUntil([&]() { return AllWorkersOn(*p, 3); }, 30s))
      << p->Logs();
  std::string gen;
  CheckoutTotal(*p, &gen);
  EXPECT_EQ(gen, "3");
}

TEST_F(ConfigTest, InvalidConfigAtStartIsAClearError) {
  std::ofstream(dir_ + "/sale.json") << R"({"discount_pct": 10})";
  auto p = StartShop(1);
  std::optional<int> code = p->WaitExit(20s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  auto err = p->LogsWithMsg("cannot start: config rejected");
  ASSERT_EQ(err.size(), 1u) << p->Logs();
  EXPECT_NE(
      err[0]["error"].get<std::string>().find("unknown field \"discount_pct\""),
      std::string::npos);
}

}  // namespace
}  // namespace corral::e2e

namespace corral::e2e {
namespace {

// Every rejected change, unreadable or invalid, is counted once and shows the
// same in the log, /status and the metrics.
TEST_F(ConfigTest, UnreadableChangesAreRejectedLikeInvalidOnes) {
  std::ofstream(dir_ + "/sale.json") << R"({"discount_percent": 10})";
  auto p = StartShop(1);
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  const std::string rejected_msg =
      "config change rejected; workers keep the last good config";

  // A key over the size cap.
  std::ofstream(dir_ + "/banner") << std::string((4 << 20) + 1, 'x');
  ASSERT_TRUE(p->WaitForLog(rejected_msg, 1, 10s)) << p->Logs();
  fs::remove(dir_ + "/banner");
  ASSERT_TRUE(p->WaitForLog(
      "config files changed but their content did not; no roll", 1, 10s))
      << p->Logs();
  // A symlink loop.
  fs::create_symlink("features.json", dir_ + "/features.json");
  ASSERT_TRUE(p->WaitForLog(rejected_msg, 2, 10s)) << p->Logs();

  auto logged = p->LogsWithMsg(rejected_msg);
  EXPECT_NE(logged[0]["error"].get<std::string>().find("larger than"),
            std::string::npos)
      << logged[0].dump();
  EXPECT_NE(logged[1]["error"].get<std::string>().find("cannot stat"),
            std::string::npos)
      << logged[1].dump();
  auto status = Status(*p);
  EXPECT_EQ(status["config"]["rejected_total"], 2) << status.dump();
  EXPECT_EQ(status["config"]["last_rejection"]["error"], logged[1]["error"]);
  EXPECT_EQ(Metric(*p, "corral_config_reload_failures_total"), 2);
  EXPECT_EQ(status["config"]["generation"], 1);
  EXPECT_TRUE(p->LogsWithMsg("rolling workers one at a time").empty());
}

// Without inotify the master polls the directory and keeps serving.
TEST_F(ConfigTest, WithoutInotifyTheDirIsPolled) {
  writer_->Write({{"sale.json", R"({"discount_percent": 0})"}});
  auto p =
      CorralProcess::Start({.args = {"--workers=1", "--config-dir=" + dir_},
                            .inotify_unavailable = true});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  auto warned =
      p->LogsWithMsg("inotify is unavailable; polling the config dir instead");
  ASSERT_EQ(warned.size(), 1u) << p->Logs();
  EXPECT_NE(warned[0]["error"].get<std::string>().find("Too many open files"),
            std::string::npos)
      << warned[0].dump();

  writer_->Write({{"sale.json", R"({"discount_percent": 20})"}});
  ASSERT_TRUE(PollUntil([&]() { return AllWorkersOn(*p, 2); }, 30s))
      << p->Logs();
  std::string gen;
  CheckoutTotal(*p, &gen);
  EXPECT_EQ(gen, "2");
}

}  // namespace
}  // namespace corral::e2e
