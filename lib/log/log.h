// Structured logs: one JSON object per line on stderr, written with a single
// write(2) so lines from the master and every worker never interleave. Never
// stdout: in the init shape that is the app's own output (tini and dumb-init
// write nothing there either).
#ifndef CORRAL_LOG_LOG_H_
#define CORRAL_LOG_LOG_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace corral::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Set once at process start: role is "master" or "worker"; worker is the
// worker's index in the pool, -1 for the master.
void Init(std::string_view role, int worker = -1, int slot = -1);
void SetLevel(Level level);
// Adds "generation" to every line of this process.
void SetGeneration(int64_t generation);
bool ParseLevel(std::string_view text, Level* level);
// "debug", "info", "warn" or "error".
const char* LevelName(Level level);

// What every line of one process carries besides the event.
struct LineContext {
  int pid = 0;
  std::string role;
  int worker = -1;  // -1: not shown
  int slot = -1;
  int64_t generation = -1;
};

// One line without its newline. Keys come in a fixed order so a person reads
// the same columns on every line: time, level, msg, then pid, role, worker,
// slot, generation, then the event's fields (sorted), then "suppressed" when
// the line stands for identical ones held back.
std::string FormatLine(absl::Time time, Level level, std::string_view message,
                       const LineContext& context, const nlohmann::json& fields,
                       int64_t suppressed = 0);

// Which warnings and errors count as repeats of each other: the same text,
// the same worker or slot, and the same non-numeric fields (an error string,
// a path, a reason). Other numbers (connection counts, sizes, durations) are
// measurements and do not make a line different: "accept failed" stays one
// line however many connections are open, while two different config
// rejections, or two workers crashing, are two.
std::string RepeatKey(std::string_view message, const nlohmann::json& fields);

void Write(Level level, std::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

inline void Debug(std::string_view m, const nlohmann::json& f = {}) {
  Write(Level::kDebug, m, f);
}
inline void Info(std::string_view m, const nlohmann::json& f = {}) {
  Write(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, const nlohmann::json& f = {}) {
  Write(Level::kWarn, m, f);
}
inline void Error(std::string_view m, const nlohmann::json& f = {}) {
  Write(Level::kError, m, f);
}

}  // namespace corral::log

#endif  // CORRAL_LOG_LOG_H_
