// Reads a config directory laid out as the kubelet mounts a ConfigMap, or a
// plain directory of files edited in place.
#ifndef CORRAL_CONFIG_CONFIG_DIR_H_
#define CORRAL_CONFIG_CONFIG_DIR_H_

#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace corral::config {

// With a `..data` symlink: resolves it once and reads every file of that one
// timestamped directory, so keys never mix two generations; if the directory
// vanishes mid-read (the next update removed it), starts over. Without one:
// every regular file whose name does not start with '.'.
absl::StatusOr<Snapshot> ReadSnapshot(const std::string& dir);

// The snapshot held by a sealed descriptor: the master's copy of one
// generation, which a worker inherits or a command worker's files come from.
absl::StatusOr<Snapshot> ReadSealedSnapshot(int fd);

}  // namespace corral::config

#endif  // CORRAL_CONFIG_CONFIG_DIR_H_
