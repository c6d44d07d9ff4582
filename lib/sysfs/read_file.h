// Reading the kernel's small text files (/proc, /sys/fs/cgroup): the whole
// file, or nothing when it is missing or unreadable.
#ifndef CORRAL_SYSFS_READ_FILE_H_
#define CORRAL_SYSFS_READ_FILE_H_

#include <optional>
#include <string>

namespace corral::sysfs {

std::optional<std::string> ReadFile(const std::string& path);

}  // namespace corral::sysfs

#endif  // CORRAL_SYSFS_READ_FILE_H_
