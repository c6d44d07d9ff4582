// A config snapshot as a directory of files, for programs that read files:
// written aside and renamed into place, so a reader never sees half of it.
#ifndef CORRAL_COMMAND_SNAPSHOT_DIR_H_
#define CORRAL_COMMAND_SNAPSHOT_DIR_H_

#include <string>

#include "absl/status/status.h"
#include "config/config.h"

namespace corral::command {

absl::Status WriteSnapshotDir(const config::Snapshot& snapshot,
                              const std::string& dir);

}  // namespace corral::command

#endif  // CORRAL_COMMAND_SNAPSHOT_DIR_H_
