// The init shape's test fixture, shared by the tests of `corral -- CMD`
// (corral_init_test.cc) and of corral invoked as tini or dumb-init
// (init_compat_test.cc): a scratch directory per test, a child that records
// the signals it gets, and ways to start corral in the init shape.
#ifndef CORRAL_E2E_INIT_FIXTURE_H_
#define CORRAL_E2E_INIT_FIXTURE_H_

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace corral::e2e {

namespace fs = std::filesystem;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The signal numbers a /proc/PID/status mask line ("SigBlk:\t...") holds.
inline std::vector<int> MaskSignals(const std::string& status,
                                    const std::string& field) {
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(field + ":\t", 0) != 0) continue;
    uint64_t mask = std::stoull(line.substr(field.size() + 2), nullptr, 16);
    std::vector<int> out;
    for (int sig = 1; sig <= 64; ++sig) {
      if (mask & (uint64_t{1} << (sig - 1))) out.push_back(sig);
    }
    return out;
  }
  return {};
}

inline bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// A signal's name, or its number for the real-time ones.
inline std::string SignalName(int sig) {
  const char* name = sigabbrev_np(sig);
  return name ? name : std::to_string(sig);
}

// A scratch directory per test, removed afterwards.
class InitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("corral-init-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CorralProcess> Init(std::vector<std::string> command,
                                      std::vector<std::string> args = {},
                                      bool pid_namespace = true) {
    return CorralProcess::Start(
        InitOptions(std::move(command), std::move(args), pid_namespace));
  }
  std::unique_ptr<CorralProcess> InitWith(ProcessOptions options) {
    return CorralProcess::Start(std::move(options));
  }
  static ProcessOptions InitOptions(std::vector<std::string> command,
                                    std::vector<std::string> args = {},
                                    bool pid_namespace = true) {
    return {.args = std::move(args),
            .pid_namespace = pid_namespace,
            .binary = CORRAL_BIN,
            .listen = false,
            .admin = false,
            .command = std::move(command)};
  }
  // A shell script that records the signals it gets in `marks`.
  std::vector<std::string> Recorder(const std::string& extra = "") {
    return {"/bin/sh", "-c",
            "for s in USR1 USR2 WINCH HUP QUIT; do trap \"echo $s >> " +
                marks() + "\" $s; done; trap 'echo TERM >> " + marks() +
                "; exit 0' TERM; " + extra + " echo started >> " + marks() +
                "; while :; do sleep 0.02; done"};
  }
  std::string marks() const { return dir_ + "/marks"; }
  // Runs a child (not as PID 1, with `flags`) that starts a process which
  // marks LEFT-TERM on SIGTERM, then exits 4 once that process runs;
  // checks the exit code and returns the process left behind (0: none).
  pid_t RunChildThatLeavesOneBehind(std::vector<std::string> flags) {
    std::string pid_file = dir_ + "/left";
    std::string left = "/bin/sh -c 'trap \"echo LEFT-TERM >> " + marks() +
                       "\" TERM; echo $$ > " + pid_file +
                       "; while :; do sleep 0.02; done' & ";
    auto p = Init(
        {"/bin/sh", "-c",
         left + "while [ ! -s " + pid_file + " ]; do sleep 0.01; done; exit 4"},
        std::move(flags), /*pid_namespace=*/false);
    EXPECT_EQ(p->WaitExit(20s), 4) << p->Logs();
    int leftover = 0;
    std::istringstream(ReadFile(pid_file)) >> leftover;
    return leftover;
  }
  bool Marked(const std::string& what) const {
    std::istringstream in(ReadFile(marks()));
    std::string line;
    while (std::getline(in, line)) {
      if (line == what) return true;
    }
    return false;
  }

  std::string dir_;
};

}  // namespace corral::e2e

#endif  // CORRAL_E2E_INIT_FIXTURE_H_
