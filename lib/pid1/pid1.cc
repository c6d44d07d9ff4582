#include "pid1/pid1.h"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace corral::pid1 {

InheritedSignals BlockAllSignals() {
  InheritedSignals inherited{};
  sigset_t all;
  sigfillset(&all);  // glibc leaves out the two it keeps for its threads
  sigprocmask(SIG_SETMASK, &all, &inherited.mask);
  sigaction(SIGCHLD, nullptr, &inherited.chld);
  return inherited;
}

void RestoreSignals(const InheritedSignals& inherited) {
  sigprocmask(SIG_SETMASK, &inherited.mask, nullptr);
}

absl::Status BecomeReaper() {
  if (getpid() == 1) return absl::OkStatus();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return absl::InternalError(
        absl::StrCat("PR_SET_CHILD_SUBREAPER: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status SetUpAsInit() {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTTIN, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);
  return BecomeReaper();
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

std::vector<pid_t> Children() {
  std::vector<pid_t> out;
  pid_t self = getpid();
  // A /proc of another PID namespace (a runtime that mounted none for ours)
  // names other processes: PID 1 would take the host init's children for
  // its own and wait for them forever. Then there is nothing to list.
  char link[32] = {};
  if (readlink("/proc/self", link, sizeof(link) - 1) <= 0 ||
      std::atoi(link) != self) {
    return out;
  }
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid <= 0) continue;
    std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
    std::string stat;
    std::getline(in, stat);
    // Field 4 (ppid) follows the command name, which may hold spaces.
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    if (fields >> state >> ppid && ppid == self) out.push_back(pid);
  }
  closedir(proc);
  return out;
}

int EndRemainingChildren(int grace_ms) {
  std::vector<pid_t> left = Children();
  for (pid_t pid : left) kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms && !Children().empty(); waited += 10) {
    ReapChildren();
    usleep(10 * 1000);
  }
  for (pid_t pid : Children()) kill(pid, SIGKILL);
  while (!Children().empty()) {
    ReapChildren();
    usleep(1000);
  }
  ReapChildren();
  return static_cast<int>(left.size());
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
