// A config snapshot as a directory of files, for programs that read files:
// written aside and renamed into place, so a reader never sees half of it.
#ifndef CORRAL_COMMAND_SNAPSHOT_DIR_H_
#define CORRAL_COMMAND_SNAPSHOT_DIR_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config.h"

namespace corral::command {

absl::Status WriteSnapshotDir(const config::Snapshot& snapshot,
                              const std::string& dir);

// A directory per config generation in use ("ROOT/config-N"), written from
// the generation's sealed snapshot the first time a copy needs it, removed
// once no copy uses it.
class SnapshotDirs {
 public:
  // `config_fd` gives the sealed snapshot of a generation (-1: none).
  SnapshotDirs(std::string root, std::function<int(int64_t)> config_fd)
      : root_(std::move(root)), config_fd_(std::move(config_fd)) {}

  // The directory of `generation`, written now if it is not there yet.
  absl::StatusOr<std::string> For(int64_t generation);
  // Removes the directories of generations not in `in_use`.
  void Prune(const std::set<int64_t>& in_use);

 private:
  std::string Path(int64_t generation) const;

  std::string root_;
  std::function<int(int64_t)> config_fd_;
  std::set<int64_t> written_;
};

}  // namespace corral::command

#endif  // CORRAL_COMMAND_SNAPSHOT_DIR_H_
