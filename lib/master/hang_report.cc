#include "master/hang_report.h"

#include <sys/syscall.h>

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sysfs/read_file.h"

namespace corral::master {
namespace {

using sysfs::ReadFile;

// The calls a stuck server is usually found in, by this machine's numbers.
const std::vector<std::pair<long, const char*>>& CommonSyscalls() {
  static const std::vector<std::pair<long, const char*>> calls = {
      {SYS_read, "read"},
      {SYS_write, "write"},
      {SYS_futex, "futex"},
      {SYS_clock_nanosleep, "clock_nanosleep"},
      {SYS_epoll_pwait, "epoll_pwait"},
      {SYS_ppoll, "ppoll"},
      {SYS_pselect6, "pselect6"},
      {SYS_accept4, "accept4"},
      {SYS_connect, "connect"},
      {SYS_recvfrom, "recvfrom"},
      {SYS_sendto, "sendto"},
      {SYS_recvmsg, "recvmsg"},
      {SYS_wait4, "wait4"},
      {SYS_flock, "flock"},
      {SYS_fcntl, "fcntl"},
      {SYS_openat, "openat"},
      {SYS_fsync, "fsync"},
#ifdef SYS_nanosleep
      {SYS_nanosleep, "nanosleep"},
#endif
#ifdef SYS_epoll_wait
      {SYS_epoll_wait, "epoll_wait"},
#endif
#ifdef SYS_poll
      {SYS_poll, "poll"},
#endif
#ifdef SYS_select
      {SYS_select, "select"},
#endif
#ifdef SYS_accept
      {SYS_accept, "accept"},
#endif
  };
  return calls;
}

}  // namespace

std::string DescribeSyscall(absl::string_view line) {
  absl::string_view text = absl::StripAsciiWhitespace(line);
  std::vector<absl::string_view> words =
      absl::StrSplit(text, ' ', absl::SkipEmpty());
  long number = 0;
  if (words.empty() || !absl::SimpleAtoi(words[0], &number) || number < 0) {
    return std::string(text.substr(0, text.find(' ')));
  }
  for (const auto& [n, name] : CommonSyscalls()) {
    if (n == number) return absl::StrCat(name, " (", number, ")");
  }
  return absl::StrCat("syscall ", number);
}

nlohmann::json DescribeProcess(const std::string& proc_root, pid_t pid) {
  const std::string dir = absl::StrCat(proc_root, "/", pid, "/");
  nlohmann::json out = nlohmann::json::object();
  if (std::optional<std::string> stat = ReadFile(dir + "stat")) {
    // "PID (comm) S ...": the state follows the last ')'.
    size_t close = stat->rfind(')');
    if (close != std::string::npos && close + 2 < stat->size()) {
      out["state"] = std::string(1, (*stat)[close + 2]);
    }
  }
  if (std::optional<std::string> wchan = ReadFile(dir + "wchan")) {
    std::string w(absl::StripAsciiWhitespace(*wchan));
    out["wchan"] = w.empty() ? "0" : w;
  }
  if (std::optional<std::string> sc = ReadFile(dir + "syscall")) {
    if (!sc->empty()) out["syscall"] = DescribeSyscall(*sc);
  }
  if (std::optional<std::string> stack = ReadFile(dir + "stack")) {
    nlohmann::json frames = nlohmann::json::array();
    for (absl::string_view f :
         absl::StrSplit(*stack, '\n', absl::SkipEmpty())) {
      // "[<0>] hrtimer_nanosleep+0xb5/0x130": the address is always 0.
      if (size_t at = f.find("] "); at != absl::string_view::npos) {
        f.remove_prefix(at + 2);
      }
      frames.push_back(std::string(f));
    }
    if (!frames.empty()) out["kernel_stack"] = frames;
  }
  return out;
}

}  // namespace corral::master
