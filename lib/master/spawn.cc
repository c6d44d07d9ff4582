#include "master/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace corral::master {
namespace {

// Only async-signal-safe calls from here to execve: the child of a fork.
[[noreturn]] void ExecChild(const SpawnRequest& r, char* const* argv,
                            char* const* envp, pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != parent) _exit(127);  // the master died before prctl
  // Move the descriptors high first so the dup2s below cannot clobber them.
  int listen_fd = fcntl(r.listen_fd, F_DUPFD, 64);
  int region_fd = fcntl(r.region_fd, F_DUPFD, 64);
  int config_fd = fcntl(r.config_fd, F_DUPFD, 64);
  if (listen_fd < 0 || region_fd < 0 || config_fd < 0) _exit(127);
  if (dup2(listen_fd, kListenFd) < 0 || dup2(region_fd, kRegionFd) < 0 ||
      dup2(config_fd, kConfigFd) < 0) {
    _exit(127);
  }
  if (syscall(SYS_close_range, kConfigFd + 1, ~0U, 0) != 0) {
    for (int fd = kConfigFd + 1; fd < 65536; ++fd) close(fd);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  execve(r.exe.c_str(), argv, envp);
  _exit(127);
}

}  // namespace

absl::StatusOr<pid_t> Spawn(const SpawnRequest& r) {
  std::vector<char*> argv;
  for (const std::string& a : r.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : r.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (access(r.exe.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute ", r.exe, ": ", std::strerror(errno)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) ExecChild(r, argv.data(), envp.data(), parent);
  setpgid(pid, pid);  // also from the parent, so it holds before exec
  return pid;
}

std::string SelfExePath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "/proc/self/exe";
  std::string path(buf, static_cast<size_t>(n));
  // A binary replaced on disk shows as "path (deleted)": exec the path, which
  // now names the new binary.
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() &&
      path.compare(path.size() - kDeleted.size(), kDeleted.size(), kDeleted) ==
          0) {
    path.resize(path.size() - kDeleted.size());
  }
  return path;
}

}  // namespace corral::master
