#include "pid1/pid1.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace corral::pid1 {

absl::Status BecomeReaper() {
  if (getpid() == 1) return absl::OkStatus();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("PR_SET_CHILD_SUBREAPER: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::vector<ExitedChild> ReapChildren() {
  std::vector<ExitedChild> out;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      out.push_back({pid, status});
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    break;  // 0: children remain but none exited; ECHILD: no children
  }
  return out;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return absl::StrCat("killed by SIG",
                        name ? name : std::to_string(WTERMSIG(status)),
                        WCOREDUMP(status) ? " (core dumped)" : "");
  }
  return absl::StrCat("ended with status ", status);
}

bool ExitedCleanly(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace corral::pid1
