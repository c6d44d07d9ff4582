#include "pool/worker_env.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace corral::pool {
namespace {

struct SetByCorral {
  std::string_view name;
  // Also a flag's variable: kept for a worker that reads its flags again.
  bool flag = false;
};

// The one list of variables corral sets for the processes it starts.
constexpr SetByCorral kSetByCorral[] = {
    {kRoleEnv},
    {kIndexEnv},
    {kSlotEnv},
    {kGenerationEnv},
    {kListenFdEnv},
    {kRegionFdEnv},
    {kConfigFdEnv},
    {kConfigHashEnv},
    {kSiblingsEnv},
    {kProxyAppSlotsEnv},
    {kProxyQueueShareEnv},
    {kProxyAppSocketsEnv},
    {kCommandWorkersEnv, true},
    {kCommandConfigDirEnv, true},
    {kReadyFdEnv},
    {kPortEnv},
    {"LISTEN_FDS"},
    {"LISTEN_PID"},
    {"LISTEN_FDNAMES"},
    {"NOTIFY_SOCKET"},
    {"WATCHDOG_USEC"},
    {"WATCHDOG_PID"},
};

bool Scrubbed(std::string_view name, WorkerKind kind) {
  for (const SetByCorral& v : kSetByCorral) {
    if (v.name == name) return !(v.flag && kind == WorkerKind::kSelf);
  }
  return false;
}

}  // namespace

std::vector<std::string> InheritedEnv(
    const std::map<std::string, std::string>& env, WorkerKind kind) {
  std::vector<std::string> out;
  for (const auto& [key, value] : env) {
    if (!Scrubbed(key, kind)) out.push_back(absl::StrCat(key, "=", value));
  }
  return out;
}

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
