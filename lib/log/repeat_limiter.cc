#include "log/repeat_limiter.h"

#include <utility>

namespace corral::log {

RepeatLimiter::RepeatLimiter(absl::Duration window, Clock now, size_t max_keys)
    : window_(window), now_(std::move(now)), max_keys_(max_keys) {}

RepeatLimiter::Decision RepeatLimiter::Admit(std::string_view text) {
  const absl::Time now = now_();
  auto it = keys_.find(std::string(text));
  if (it == keys_.end()) {
    if (keys_.size() >= max_keys_) ForgetExpired(now);
    if (keys_.size() >= max_keys_) return Decision{};
    keys_.emplace(std::string(text), Entry{now, 0});
    return Decision{};
  }
  Entry& entry = it->second;
  if (now - entry.last_emitted < window_) {
    ++entry.suppressed;
    return Decision{.emit = false, .suppressed = entry.suppressed};
  }
  Decision decision{.emit = true, .suppressed = entry.suppressed};
  entry = Entry{now, 0};
  return decision;
}

void RepeatLimiter::ForgetExpired(absl::Time now) {
  // Only keys with nothing held back: forgetting one loses no count.
  std::erase_if(keys_, [&](const auto& kv) {
    return kv.second.suppressed == 0 && now - kv.second.last_emitted >= window_;
  });
}

}  // namespace corral::log
