#include "command/snapshot_dir.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "config/config_dir.h"

namespace corral::command {

namespace fs = std::filesystem;

absl::Status WriteSnapshotDir(const config::Snapshot& snapshot,
                              const std::string& dir) {
  std::string tmp = dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot write the config snapshot to ", tmp, ": ", ec.message()));
  }
  for (const auto& [name, content] : snapshot) {
    std::ofstream out(tmp + "/" + name, std::ios::binary);
    out << content;
    if (!out) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ", tmp, "/", name));
    }
  }
  fs::remove_all(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot move the config snapshot to ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::string SnapshotDirs::Path(int64_t generation) const {
  return absl::StrCat(root_, "/config-", generation);
}

absl::StatusOr<std::string> SnapshotDirs::For(int64_t generation) {
  std::string dir = Path(generation);
  if (written_.count(generation)) return dir;
  auto snapshot =
      config::ReadSealedSnapshot(config_fd_ ? config_fd_(generation) : -1);
  if (!snapshot.ok()) return snapshot.status();
  if (absl::Status s = WriteSnapshotDir(*snapshot, dir); !s.ok()) return s;
  written_.insert(generation);
  return dir;
}

void SnapshotDirs::Prune(const std::set<int64_t>& in_use) {
  for (auto it = written_.begin(); it != written_.end();) {
    if (in_use.count(*it)) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove_all(Path(*it), ec);
    it = written_.erase(it);
  }
}

}  // namespace corral::command
