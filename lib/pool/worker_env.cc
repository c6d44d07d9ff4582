#include "pool/worker_env.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace corral::pool {

absl::StatusOr<WorkerEnv> ParseWorkerEnv(
    const std::map<std::string, std::string>& env) {
  WorkerEnv w;
  auto get = [&](const char* name, auto* out) -> absl::Status {
    auto it = env.find(name);
    if (it == env.end() || !absl::SimpleAtoi(it->second, out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("worker environment lacks a valid ", name));
    }
    return absl::OkStatus();
  };
  for (absl::Status s :
       {get(kIndexEnv, &w.index), get(kSlotEnv, &w.slot),
        get(kGenerationEnv, &w.generation), get(kListenFdEnv, &w.listen_fd),
        get(kRegionFdEnv, &w.region_fd), get(kConfigFdEnv, &w.config_fd)}) {
    if (!s.ok()) return s;
  }
  if (auto it = env.find(kConfigHashEnv); it != env.end())
    w.config_hash = it->second;
  if (auto it = env.find(kSiblingsEnv);
      it != env.end() &&
      !ParseSlots(it->second, &w.siblings_first, &w.siblings_count)) {
    return absl::InvalidArgumentError(absl::StrCat(
        kSiblingsEnv, " must be first:count, got \"", it->second, "\""));
  }
  return w;
}

std::string AppSocketPath(std::string_view dir, uint32_t id) {
  return absl::StrCat(absl::string_view(dir.data(), dir.size()), "/app-", id,
                      ".sock");
}

std::string FormatSlots(int first, int count) {
  return absl::StrCat(first, ":", count);
}

bool ParseSlots(std::string_view text, int* first, int* count) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), ':');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], first) &&
         absl::SimpleAtoi(parts[1], count) && *first >= 0 && *count >= 0;
}

}  // namespace corral::pool
