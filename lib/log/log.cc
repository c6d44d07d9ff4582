#include "log/log.h"

#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

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

}  // namespace

void Init(std::string_view role, int worker, int slot) {
  State& s = GetState();
  s.role = std::string(role);
  s.worker = worker;
  s.slot = slot;
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

void Write(Level level, std::string_view message,
           const nlohmann::json& fields) {
  const State& s = GetState();
  if (level < s.level) return;
  nlohmann::json line = nlohmann::json::object();
  line["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                  absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["pid"] = static_cast<int>(getpid());
  line["role"] = s.role;
  if (s.worker >= 0) line["worker"] = s.worker;
  if (s.slot >= 0) line["slot"] = s.slot;
  if (s.generation >= 0) line["generation"] = s.generation;
  line["msg"] = std::string(message);
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  // One write keeps the line whole; retry only on EINTR and short writes.
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace corral::log
