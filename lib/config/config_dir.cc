#include "config/config_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace corral::config {
namespace {

constexpr int kAttempts = 5;
constexpr size_t kMaxFileBytes = 4 << 20;

// ENOENT from here means "the directory changed under us: try again".
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT
               ? absl::NotFoundError(path)
               : absl::FailedPreconditionError(absl::StrCat(
                     "cannot read ", path, ": ", std::strerror(errno)));
  }
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxFileBytes) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is larger than ", kMaxFileBytes, " bytes"));
    }
  }
  close(fd);
  return out;
}

absl::StatusOr<Snapshot> ReadFlat(const std::string& dir, bool skip_dot) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return errno == ENOENT
               ? absl::NotFoundError(dir)
               : absl::FailedPreconditionError(absl::StrCat(
                     "cannot list ", dir, ": ", std::strerror(errno)));
  }
  Snapshot snap;
  absl::Status status;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || (skip_dot && name[0] == '.')) continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // a dangling key link: a removed key
      status = absl::FailedPreconditionError(
          absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
      break;
    }
    if (!S_ISREG(st.st_mode)) continue;
    auto content = ReadFile(path);
    if (!content.ok()) {
      if (absl::IsNotFound(content.status()) && skip_dot) continue;  // deleted
      status = content.status();
      break;
    }
    snap[name] = std::move(*content);
  }
  closedir(d);
  if (!status.ok()) return status;
  return snap;
}

}  // namespace

absl::StatusOr<Snapshot> ReadSnapshot(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("config dir ", dir, " does not exist"));
  }
  std::string data_link = dir + "/..data";
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    char target[PATH_MAX];
    ssize_t n = readlink(data_link.c_str(), target, sizeof(target) - 1);
    if (n < 0) {
      if (errno != ENOENT && errno != EINVAL) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot read ", data_link, ": ", std::strerror(errno)));
      }
      return ReadFlat(dir, true);  // a plain directory
    }
    std::string resolved(target, static_cast<size_t>(n));
    if (resolved.empty() || resolved[0] != '/') resolved = dir + "/" + resolved;
    auto snap = ReadFlat(resolved, false);
    if (snap.ok()) return snap;
    last = snap.status();
    if (!absl::IsNotFound(last)) return last;
    // The generation we resolved was replaced mid-read: resolve again.
  }
  return absl::UnavailableError(absl::StrCat(
      "config dir ", dir, " kept changing while being read: ", last.message()));
}

absl::StatusOr<Snapshot> ReadSealedSnapshot(int fd) {
  if (fd < 0) return absl::NotFoundError("no config snapshot");
  std::string text;
  char buf[16384];
  for (off_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("reading the config snapshot: ", std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return SnapshotFromJson(text);
}

}  // namespace corral::config
