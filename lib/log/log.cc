#include "log/log.h"

#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "log/repeat_limiter.h"

namespace corral::log {
namespace {

struct State {
  std::string role = "master";
  int worker = -1;
  int slot = -1;
  Level level = Level::kInfo;
  int64_t generation = -1;
};

State& GetState() {
  static State state;
  return state;
}

// One line per text per window is plenty while a condition persists
// (descriptors exhausted: accept fails ten times a second).
constexpr absl::Duration kRepeatWindow = absl::Seconds(5);

// Warnings and errors that repeat are rate-limited (see RepeatKey); the
// line let through says how many were held back. Returns that count, or
// nullopt to hold this line back.
std::optional<int64_t> AdmitRepeat(std::string_view message,
                                   const nlohmann::json& fields) {
  static std::mutex mu;
  static RepeatLimiter limiter(kRepeatWindow, [] { return absl::Now(); });
  std::string key = RepeatKey(message, fields);
  std::lock_guard<std::mutex> lock(mu);
  RepeatLimiter::Decision d = limiter.Admit(key);
  if (!d.emit) return std::nullopt;
  return d.suppressed;
}

}  // namespace

std::string RepeatKey(std::string_view message, const nlohmann::json& fields) {
  std::string key(message);
  if (!fields.is_object()) return key;
  for (const auto& [name, value] : fields.items()) {
    bool identity = name == "worker" || name == "slot";
    if (value.is_number() && !identity) continue;
    key.push_back('\n');
    key += name;
    key.push_back('=');
    key += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return key;
}

void Init(std::string_view role, int worker, int slot) {
  State& s = GetState();
  s.role = std::string(role);
  s.worker = worker;
  s.slot = slot;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void SetLevel(Level level) { GetState().level = level; }

void SetGeneration(int64_t generation) { GetState().generation = generation; }

bool ParseLevel(std::string_view text, Level* level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

std::string FormatLine(absl::Time time, Level level, std::string_view message,
                       const LineContext& context, const nlohmann::json& fields,
                       int64_t suppressed) {
  // ordered_json keeps insertion order; a field named like a prefix key
  // replaces its value in place.
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["time"] =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["msg"] = std::string(message);
  line["pid"] = context.pid;
  line["role"] = context.role;
  if (context.worker >= 0) line["worker"] = context.worker;
  if (context.slot >= 0) line["slot"] = context.slot;
  if (context.generation >= 0) line["generation"] = context.generation;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  if (suppressed > 0) line["suppressed"] = suppressed;
  return line.dump(-1, ' ', false,
                   nlohmann::ordered_json::error_handler_t::replace);
}

void Write(Level level, std::string_view message,
           const nlohmann::json& fields) {
  const State& s = GetState();
  if (level < s.level) return;
  int64_t suppressed = 0;
  if (level >= Level::kWarn) {
    std::optional<int64_t> admitted = AdmitRepeat(message, fields);
    if (!admitted) return;
    suppressed = *admitted;
  }
  LineContext context{.pid = static_cast<int>(getpid()),
                      .role = s.role,
                      .worker = s.worker,
                      .slot = s.slot,
                      .generation = s.generation};
  std::string text =
      FormatLine(absl::Now(), level, message, context, fields, suppressed);
  text.push_back('\n');
  // One write keeps the line whole; retry only on EINTR and short writes.
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace corral::log
