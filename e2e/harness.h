// Runs the real corral-shop binary as PID 1 of its own PID namespace
// (`unshare --pid --fork --mount-proc`), the way a container runtime does, and
// gives tests its ports, its processes (as host pids) and its JSON logs.
#ifndef CORRAL_E2E_HARNESS_H_
#define CORRAL_E2E_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace corral::e2e {

using namespace std::chrono_literals;

// Polls `done` every few milliseconds until it holds or the deadline passes.
bool PollUntil(const std::function<bool()>& done,
               std::chrono::milliseconds deadline);

uint16_t FreePort();

// A TCP connection to 127.0.0.1:port (a blocking socket), or -1.
int ConnectLoopback(uint16_t port);

struct HttpResult {
  int status = 0;  // 0: no response (connection refused, reset...)
  std::string body;
  std::map<std::string, std::string> headers;
  std::string error;
};
HttpResult HttpGet(uint16_t port, const std::string& path);
HttpResult HttpPost(uint16_t port, const std::string& path,
                    const std::string& body,
                    const std::string& content_type = "application/json");
// Sends a raw request on the connected socket `fd` and reads one answer
// framed by Content-Length; "" when the connection closed or nothing came
// within `wait_seconds`. For tests that need one connection's next answer.
std::string AskOn(int fd, const std::string& request, int wait_seconds);

// "name{labels}" -> value, from Prometheus' text exposition.
std::map<std::string, double> ParseExposition(const std::string& text);
// The sum of every series of a metric family.
double Sum(const std::map<std::string, double>& m, const std::string& name);

struct ProcessOptions {
  std::vector<std::string> args;           // besides --listen/--admin
  std::map<std::string, std::string> env;  // added to the environment
  bool pid_namespace = true;
  // With pid_namespace: a /proc of the new namespace (--mount-proc), or the
  // host's, as in a container whose runtime mounts none.
  bool mount_proc = true;
  // Runs the master in a user namespace that allows no inotify instance, as
  // on a node where they are used up.
  bool inotify_unavailable = false;
  // The binary to run; corral-shop unless set.
  std::string binary;
  // Without --listen (corral's init shape) or without --admin.
  bool listen = true;
  bool admin = true;
  // For corral: the command, passed after "--".
  std::vector<std::string> command;
  // Standard output into a file of its own (Stdout()) instead of the log
  // file that otherwise takes both streams.
  bool stdout_apart = false;
  // The launched process starts with default dispositions and an empty
  // mask (not whatever the test runner left), but for these.
  std::vector<int> ignored_signals;
  std::vector<int> blocked_signals;
  // A cgroup directory (e.g. a v1 memory cgroup the test made, see
  // memory_cgroup.h) the launched process joins before it execs, as a
  // container's processes start in the container's cgroup.
  std::string cgroup;
};

class CorralProcess {
 public:
  static std::unique_ptr<CorralProcess> Start(ProcessOptions options);
  ~CorralProcess();  // SIGKILLs whatever is left

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }

  // The master's pid as seen from the test (host namespace).
  pid_t master_pid() const { return master_pid_; }
  // Host pids of the master's live children.
  std::vector<pid_t> ChildPids() const;
  // Host pid of a process by its pid inside the namespace.
  std::optional<pid_t> HostPid(pid_t ns_pid) const;

  bool WaitReady(std::chrono::milliseconds deadline = 20s);
  int ProbeStatus(const std::string& path) const;
  void Signal(int sig) const;
  // The master's exit code (or 128+signal), once it has exited.
  std::optional<int> WaitExit(std::chrono::milliseconds deadline);

  // Standard error, and standard output too unless stdout_apart.
  std::string Logs() const;
  std::string Stdout() const;
  std::vector<nlohmann::json> LogLines() const;
  // Lines whose "msg" equals `msg`.
  std::vector<nlohmann::json> LogsWithMsg(const std::string& msg) const;
  bool WaitForLog(const std::string& msg, size_t count,
                  std::chrono::milliseconds deadline);

 private:
  CorralProcess() = default;

  pid_t launcher_pid_ = -1;  // unshare, or the master itself
  pid_t master_pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string log_path_;
  std::string stdout_path_;
  std::optional<int> exit_code_;
};

}  // namespace corral::e2e

#endif  // CORRAL_E2E_HARNESS_H_
