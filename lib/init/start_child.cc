#include "init/start_child.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "command/spawn_command.h"

namespace corral::init {
namespace {

// Only async-signal-safe calls: this runs in the child of a fork.
[[noreturn]] void ExecChild(char* const* argv, char* const* envp,
                            const pid1::InheritedSignals& inherited,
                            int working_directory) {
  setpgid(0, 0);
  if (working_directory >= 0 && fchdir(working_directory) != 0) _exit(126);
  // Every signal is still blocked here, so taking the terminal from the
  // background cannot stop us with SIGTTOU. Without a terminal (ENOTTY) or
  // with one that is not ours, the child runs on without it.
  tcsetpgrp(STDIN_FILENO, getpgrp());
  if (syscall(SYS_close_range, 3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 65536; ++fd) close(fd);
  }
  sigaction(SIGCHLD, &inherited.chld, nullptr);
  sigprocmask(SIG_SETMASK, &inherited.mask, nullptr);
  command::ExecOrExit(argv, envp);
}

}  // namespace

absl::StatusOr<pid_t> StartChild(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const pid1::InheritedSignals& inherited,
                                 int working_directory) {
  if (argv.empty()) return absl::InvalidArgumentError("no command");
  std::vector<char*> cargv;
  for (const std::string& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    ExecChild(cargv.data(), cenv.data(), inherited, working_directory);
  }
  setpgid(pid, pid);  // also from here, so it holds before the exec
  return pid;
}

}  // namespace corral::init
