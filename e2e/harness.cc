#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace corral::e2e {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The kernel's struct sigaction (x86-64, aarch64): glibc's refuses signals
// 32 and 33.
struct KernelSigaction {
  __sighandler_t handler;
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};

std::vector<pid_t> Children(pid_t pid) {
  std::vector<pid_t> out;
  std::istringstream in(ReadAll("/proc/" + std::to_string(pid) + "/task/" +
                                std::to_string(pid) + "/children"));
  pid_t child;
  while (in >> child) out.push_back(child);
  return out;
}

HttpResult FromHttplib(const httplib::Result& res) {
  HttpResult r;
  if (!res) {
    r.error = httplib::to_string(res.error());
    return r;
  }
  r.status = res->status;
  r.body = res->body;
  for (const auto& [k, v] : res->headers) r.headers[k] = v;
  return r;
}

}  // namespace

bool PollUntil(const std::function<bool()>& done,
               std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double Sum(const std::map<std::string, double>& m, const std::string& name) {
  double total = 0;
  for (const auto& [series, v] : m) {
    if (series == name || series.rfind(name + "{", 0) == 0) total += v;
  }
  return total;
}

std::string AskOn(int fd, const std::string& request, int wait_seconds) {
  timeval tv{wait_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) return "";
  std::string in;
  char buf[4096];
  for (;;) {
    const size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      const size_t cl = in.find("Content-Length: ");
      const size_t length = cl < end ? std::stoul(in.substr(cl + 16)) : 0;
      if (in.size() >= end + 4 + length) return in;
    }
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    in.append(buf, static_cast<size_t>(n));
  }
}

HttpResult HttpGet(uint16_t port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  return FromHttplib(client.Get(path));
}

HttpResult HttpPost(uint16_t port, const std::string& path,
                    const std::string& body, const std::string& content_type) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  return FromHttplib(client.Post(path, body, content_type));
}

std::unique_ptr<CorralProcess> CorralProcess::Start(ProcessOptions options) {
  std::unique_ptr<CorralProcess> p(new CorralProcess());
  p->port_ = FreePort();
  p->admin_port_ = FreePort();
  while (p->admin_port_ == p->port_) p->admin_port_ = FreePort();
  char tmpl[] = "/tmp/corral-e2e-log-XXXXXX";
  int log_fd = mkstemp(tmpl);
  p->log_path_ = tmpl;
  int stdout_fd = log_fd;
  if (options.stdout_apart) {
    char out_tmpl[] = "/tmp/corral-e2e-stdout-XXXXXX";
    stdout_fd = mkstemp(out_tmpl);
    p->stdout_path_ = out_tmpl;
  }

  std::vector<std::string> argv;
  if (options.pid_namespace) {
    argv = {"/usr/bin/unshare", "--pid", "--fork", "--kill-child"};
    if (options.mount_proc) argv.push_back("--mount-proc");
  }
  if (options.inotify_unavailable) {
    // The limit is per user namespace; exec keeps the master's pid.
    argv.insert(argv.begin() + 1, {"--user", "--map-root-user"});
    argv.insert(
        argv.end(),
        {"/bin/sh", "-c",
         "echo 0 > /proc/sys/user/max_inotify_instances && exec \"$@\"", "sh"});
  }
  argv.push_back(options.binary.empty() ? CORRAL_SHOP_BIN : options.binary);
  if (options.listen) {
    argv.push_back("--listen=127.0.0.1:" + std::to_string(p->port_));
  }
  if (options.admin) {
    argv.push_back("--admin=127.0.0.1:" + std::to_string(p->admin_port_));
  }
  for (const std::string& a : options.args) argv.push_back(a);
  if (!options.command.empty()) {
    argv.push_back("--");
    for (const std::string& a : options.command) argv.push_back(a);
  }

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("CORRAL_", 0) == 0) continue;
    env.emplace_back(*e);
  }
  for (const auto& [k, v] : options.env) env.push_back(k + "=" + v);

  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  const std::string cgroup_procs =
      options.cgroup.empty() ? "" : options.cgroup + "/cgroup.procs";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(stdout_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    // ctest and shells leave signals ignored or blocked; start from none.
    // The raw call reaches 32 and 33 too, which glibc's signal() refuses
    // and which ctest leaves ignored.
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      KernelSigaction dfl{};
      dfl.handler = SIG_DFL;
      syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(dfl.mask));
    }
    for (int sig : options.ignored_signals) signal(sig, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : options.blocked_signals) sigaddset(&mask, sig);
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    if (!cgroup_procs.empty()) {
      // "0": the writer itself (no allocation after fork).
      int fd = open(cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) _exit(126);
      close(fd);
    }
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(log_fd);
  if (stdout_fd != log_fd) close(stdout_fd);
  p->launcher_pid_ = pid;
  if (!options.pid_namespace) {
    p->master_pid_ = pid;
  } else {
    // The master may come and go before a poll sees it (an init whose
    // child exits at once): then the launcher has exited too.
    auto launcher_exited = [pid]() {
      siginfo_t info{};
      return waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
             info.si_pid == pid;
    };
    const bool settled = PollUntil(
        [&]() {
          auto kids = Children(pid);
          if (kids.empty()) return launcher_exited();
          p->master_pid_ = kids.front();
          return true;
        },
        10s);
    if (!settled) {
      ADD_FAILURE() << "no master appeared under the pid-namespace launcher";
    }
    // Without a master, signals reach the launcher: never pid -1, which
    // kill(2) takes as every process we may signal.
    if (p->master_pid_ <= 0) p->master_pid_ = pid;
  }
  return p;
}

CorralProcess::~CorralProcess() {
  if (exit_code_) return;
  for (pid_t child : ChildPids()) kill(child, SIGKILL);
  if (master_pid_ > 0) kill(master_pid_, SIGKILL);
  if (launcher_pid_ > 0) {
    kill(launcher_pid_, SIGKILL);
    int status;
    waitpid(launcher_pid_, &status, 0);
  }
}

std::vector<pid_t> CorralProcess::ChildPids() const {
  return master_pid_ > 0 ? Children(master_pid_) : std::vector<pid_t>{};
}

std::optional<pid_t> CorralProcess::HostPid(pid_t ns_pid) const {
  std::vector<pid_t> candidates = ChildPids();
  candidates.push_back(master_pid_);
  for (pid_t host : candidates) {
    std::istringstream in(ReadAll("/proc/" + std::to_string(host) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("NSpid:", 0) != 0) continue;
      std::istringstream ids(line.substr(6));
      pid_t id = 0, last = 0;
      while (ids >> id) last = id;
      if (last == ns_pid) return host;
    }
  }
  return std::nullopt;
}

bool CorralProcess::WaitReady(std::chrono::milliseconds deadline) {
  return PollUntil([&]() { return ProbeStatus("/readyz") == 200; }, deadline);
}

int CorralProcess::ProbeStatus(const std::string& path) const {
  httplib::Client client("127.0.0.1", admin_port_);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(1, 0);
  auto res = client.Get(path);
  return res ? res->status : 0;
}

void CorralProcess::Signal(int sig) const { kill(master_pid_, sig); }

std::optional<int> CorralProcess::WaitExit(std::chrono::milliseconds deadline) {
  if (exit_code_) return exit_code_;
  const bool exited = PollUntil(
      [&]() {
        int status = 0;
        pid_t r = waitpid(launcher_pid_, &status, WNOHANG);
        if (r != launcher_pid_) return false;
        exit_code_ =
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
      },
      deadline);
  if (!exited) return std::nullopt;
  return exit_code_;
}

std::string CorralProcess::Logs() const { return ReadAll(log_path_); }

std::string CorralProcess::Stdout() const {
  return stdout_path_.empty() ? "" : ReadAll(stdout_path_);
}

std::vector<nlohmann::json> CorralProcess::LogLines() const {
  std::vector<nlohmann::json> out;
  std::istringstream in(Logs());
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<nlohmann::json> CorralProcess::LogsWithMsg(
    const std::string& msg) const {
  std::vector<nlohmann::json> out;
  for (auto& j : LogLines()) {
    if (j.value("msg", "") == msg) out.push_back(j);
  }
  return out;
}

bool CorralProcess::WaitForLog(const std::string& msg, size_t count,
                               std::chrono::milliseconds deadline) {
  return PollUntil([&]() { return LogsWithMsg(msg).size() >= count; },
                   deadline);
}

}  // namespace corral::e2e
