#include "command/spawn_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace corral::command {
namespace {

// Only async-signal-safe calls below: this runs in the child of a fork.
void WriteAll(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// The kernel's struct sigaction (x86-64, aarch64): glibc's refuses signals
// 32 and 33.
struct KernelSigaction {
  __sighandler_t handler;
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

// Writes `pid` after the "NAME=" that `buf` already holds.
void FormatPid(char* buf, size_t size, pid_t pid) {
  size_t at = std::strlen(buf);
  char digits[16];
  int n = 0;
  for (unsigned long v = static_cast<unsigned long>(pid); n == 0 || v > 0;
       v /= 10) {
    digits[n++] = static_cast<char>('0' + v % 10);
  }
  while (n > 0 && at + 1 < size) buf[at++] = digits[--n];
  buf[at] = '\0';
}

[[noreturn]] void ExecChild(const CommandSpec& spec, char* const* argv,
                            char** envp, char* const* pid_slots,
                            size_t pid_slot_size, pid_t parent) {
  setpgid(0, 0);
  if (spec.die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(kExitCannotExecute);
  }
  // Move the kept descriptors high first so the dup2s cannot clobber them.
  int high[16];
  size_t kept = spec.fds.size() < 16 ? spec.fds.size() : 16;
  for (size_t i = 0; i < kept; ++i) {
    high[i] = fcntl(spec.fds[i].first, F_DUPFD, 256);
    if (high[i] < 0) _exit(kExitCannotExecute);
  }
  int lowest_free = 3;
  for (size_t i = 0; i < kept; ++i) {
    int to = spec.fds[i].second;
    if (dup2(high[i], to) < 0) _exit(kExitCannotExecute);
    if (to + 1 > lowest_free) lowest_free = to + 1;
  }
  if (syscall(SYS_close_range, lowest_free, ~0U, 0) != 0) {
    for (int fd = lowest_free; fd < 65536; ++fd) close(fd);
  }
  for (char* const* slot = pid_slots; *slot != nullptr; ++slot) {
    FormatPid(*slot, pid_slot_size, getpid());
  }
  // Default dispositions and an empty mask: what the program would get from
  // a shell. Handlers do not survive exec, but ignored signals would. The
  // raw call reaches the two real-time signals glibc keeps for itself (32
  // and 33), which a parent may have left ignored too.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction dfl{};
    dfl.handler = SIG_DFL;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(dfl.mask));
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ExecOrExit(argv, envp);
}

}  // namespace

void ExecOrExit(char* const* argv, char* const* envp) {
  execvpe(argv[0], argv, envp);
  int err = errno;
  const char* name = argv[0];
  WriteAll(2, "corral: ", 8);
  WriteAll(2, name, std::strlen(name));
  if (err == ENOENT) {
    WriteAll(2, ": command not found\n", 20);
    _exit(kExitNotFound);
  }
  WriteAll(2, ": cannot execute: ", 18);
  const char* why = strerrordesc_np(err);
  if (why != nullptr) WriteAll(2, why, std::strlen(why));
  WriteAll(2, "\n", 1);
  _exit(kExitCannotExecute);
}

absl::StatusOr<pid_t> SpawnCommand(const CommandSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("no command");
  if (spec.fds.size() > 16) {
    return absl::InvalidArgumentError("too many descriptors for a child");
  }
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  constexpr size_t kPidSlot = 64;
  std::vector<std::string> env = spec.env;
  // "NAME=" and room for the child's pid, filled in after fork.
  for (const std::string& name : spec.pid_vars) {
    std::string slot = name + "=";
    slot.resize(kPidSlot, '\0');
    env.push_back(std::move(slot));
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> pid_slots;
  for (size_t i = spec.env.size(); i < env.size(); ++i) {
    pid_slots.push_back(env[i].data());
  }
  pid_slots.push_back(nullptr);

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    ExecChild(spec, argv.data(), envp.data(), pid_slots.data(), kPidSlot,
              parent);
  }
  setpgid(pid, pid);  // also from the parent, so it holds before exec
  return pid;
}

}  // namespace corral::command
