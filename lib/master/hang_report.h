// What a process whose heartbeat stopped is doing, read from /proc before
// it is killed, as uWSGI's harakiri-verbose does: its state, the kernel
// function it sleeps in (wchan), the system call it is in, and the kernel
// stack where readable (root only). A process on a CPU in user space shows
// as "running" with no wchan: a loop in the app's own code.
#ifndef CORRAL_MASTER_HANG_REPORT_H_
#define CORRAL_MASTER_HANG_REPORT_H_

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/string_view.h"

namespace corral::master {

// "230 0x0 0x0 ..." (/proc/PID/syscall) as "clock_nanosleep (230)" when the
// number is a common one, "syscall 230" otherwise; "running" and "-1 ..."
// (blocked outside a system call) as they are.
std::string DescribeSyscall(absl::string_view line);

// The fields for the log line, from `proc_root`/PID; a file that cannot be
// read is left out.
nlohmann::json DescribeProcess(const std::string& proc_root, pid_t pid);

}  // namespace corral::master

#endif  // CORRAL_MASTER_HANG_REPORT_H_
