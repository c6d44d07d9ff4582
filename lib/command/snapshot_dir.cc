#include "command/snapshot_dir.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

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

}  // namespace corral::command
