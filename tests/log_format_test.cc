#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "log/log.h"

namespace corral::log {
namespace {

// The keys of a JSON object line, in the order they appear in the text.
std::vector<std::string> KeysInOrder(const std::string& line) {
  std::vector<std::string> keys;
  auto parsed = nlohmann::ordered_json::parse(line);
  for (const auto& [key, value] : parsed.items()) keys.push_back(key);
  return keys;
}

const absl::Time kTime = absl::FromUnixMillis(1'795'000'000'123);

TEST(LogFormatTest, TimeLevelMsgComeFirstThenTheProcessThenTheFields) {
  LineContext worker{
      .pid = 42, .role = "worker", .worker = 1, .slot = 3, .generation = 7};
  std::string line =
      FormatLine(kTime, Level::kWarn, "accept failed, retrying shortly", worker,
                 {{"error", "Too many open files"}, {"connections", 9990}});
  EXPECT_EQ(
      KeysInOrder(line),
      (std::vector<std::string>{"time", "level", "msg", "pid", "role", "worker",
                                "slot", "generation", "connections", "error"}));
  EXPECT_EQ(line.rfind("{\"time\":\"2026-11-18T", 0), 0u) << line;
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["time"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(parsed["level"], "warn");
  EXPECT_EQ(parsed["msg"], "accept failed, retrying shortly");
  EXPECT_EQ(parsed["pid"], 42);
  EXPECT_EQ(parsed["connections"], 9990);
}

TEST(LogFormatTest, TheMasterLeavesOutWorkerSlotAndGeneration) {
  LineContext master{.pid = 1, .role = "master"};
  std::string line = FormatLine(kTime, Level::kInfo, "listening", master,
                                {{"listen", "0.0.0.0:8080"}});
  EXPECT_EQ(KeysInOrder(line),
            (std::vector<std::string>{"time", "level", "msg", "pid", "role",
                                      "listen"}));
}

TEST(LogFormatTest, AFieldNamedLikeAPrefixKeyReplacesItInPlace) {
  LineContext worker{.pid = 9, .role = "worker", .worker = 0, .generation = 2};
  std::string line =
      FormatLine(kTime, Level::kError, "app start-up check failed", worker,
                 {{"generation", 3}, {"error", "no catalogue"}});
  EXPECT_EQ(KeysInOrder(line),
            (std::vector<std::string>{"time", "level", "msg", "pid", "role",
                                      "worker", "generation", "error"}));
  EXPECT_EQ(nlohmann::json::parse(line)["generation"], 3);
}

TEST(LogFormatTest, SuppressedComesLastAndOnlyWhenSomethingWasHeldBack) {
  LineContext master{.pid = 1, .role = "master"};
  std::string held = FormatLine(kTime, Level::kWarn, "w", master,
                                {{"error", "e"}}, /*suppressed=*/49);
  EXPECT_EQ(KeysInOrder(held).back(), "suppressed");
  EXPECT_EQ(nlohmann::json::parse(held)["suppressed"], 49);
  std::string none = FormatLine(kTime, Level::kWarn, "w", master, {});
  EXPECT_FALSE(nlohmann::json::parse(none).contains("suppressed"));
}

TEST(LogFormatTest, InvalidUtf8InAFieldIsReplacedNotThrown) {
  LineContext master{.pid = 1, .role = "master"};
  std::string line = FormatLine(kTime, Level::kInfo, "bad path", master,
                                {{"path", std::string("/p\xff")}});
  EXPECT_NO_THROW(nlohmann::json::parse(line));
}

TEST(RepeatKeyTest, NumbersThatMeasureDoNotMakeALineDifferent) {
  EXPECT_EQ(
      RepeatKey("accept failed, retrying shortly",
                {{"error", "Too many open files"}, {"connections", 9990}}),
      RepeatKey("accept failed, retrying shortly",
                {{"error", "Too many open files"}, {"connections", 9975}}));
}

TEST(RepeatKeyTest, ADifferentErrorIsADifferentLine) {
  const char* msg = "config change rejected; workers keep the last good config";
  EXPECT_NE(RepeatKey(msg, {{"error", "sale.json: not valid JSON"}}),
            RepeatKey(msg, {{"error", "discount_percent must be 0-100"}}));
}

TEST(RepeatKeyTest, EventsAboutDifferentWorkersAreDifferentLines) {
  EXPECT_NE(RepeatKey("worker died unexpectedly", {{"worker", 0}}),
            RepeatKey("worker died unexpectedly", {{"worker", 1}}));
  EXPECT_NE(RepeatKey("worker retired by force", {{"slot", 2}}),
            RepeatKey("worker retired by force", {{"slot", 3}}));
}

TEST(RepeatKeyTest, TheTextAloneSeparatesLinesWithoutFields) {
  EXPECT_EQ(RepeatKey("x", {}), RepeatKey("x", nlohmann::json::object()));
  EXPECT_NE(RepeatKey("x", {}), RepeatKey("y", {}));
}

}  // namespace
}  // namespace corral::log
