#include "command/config_check.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "command/snapshot_dir.h"
#include "command/spawn_command.h"
#include "log/log.h"
#include "pid1/pid1.h"

extern char** environ;

namespace corral::command {
namespace {

constexpr size_t kKeptOutput = 4096;

}  // namespace

ConfigCheck::ConfigCheck(boost::asio::io_context& io, std::string command,
                         std::string dir, absl::Duration timeout)
    : io_(io),
      command_(std::move(command)),
      dir_(std::move(dir)),
      timeout_(timeout),
      deadline_(io) {}

ConfigCheck::~ConfigCheck() {
  Abandon();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void ConfigCheck::Abandon() {
  if (pid_ > 0 && !status_) kill(-pid_, SIGKILL);
  deadline_.cancel();
  if (output_pipe_) {
    boost::system::error_code ec;
    output_pipe_->close(ec);
    output_pipe_.reset();
  }
  done_ = nullptr;
}

void ConfigCheck::Start(const config::Snapshot& snapshot,
                        std::function<void(absl::Status)> done) {
  if (done_) {
    log::Info("a newer config change arrived; abandoning its --config-check");
  }
  Abandon();
  pid_ = 0;
  status_.reset();
  output_.clear();
  output_done_ = false;
  if (absl::Status s = WriteSnapshotDir(snapshot, dir_); !s.ok()) {
    done(s);
    return;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    done(absl::ResourceExhaustedError(
        absl::StrCat("--config-check output pipe: ", std::strerror(errno))));
    return;
  }
  CommandSpec spec;
  spec.argv = {"/bin/sh", "-c", command_};
  for (char** e = environ; *e != nullptr; ++e) spec.env.emplace_back(*e);
  spec.env.push_back("CORRAL_CONFIG_DIR=" + dir_);
  spec.fds = {{fds[1], 1}, {fds[1], 2}};
  spec.die_with_parent = true;
  absl::StatusOr<pid_t> pid = SpawnCommand(spec);
  close(fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    done(pid.status());
    return;
  }
  pid_ = *pid;
  done_ = std::move(done);
  output_pipe_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_);
  output_pipe_->assign(fds[0]);
  ReadOutput();
  deadline_.expires_after(
      std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout_)));
  deadline_.async_wait([this](boost::system::error_code ec) {
    if (ec || !done_) return;
    kill(-pid_, SIGKILL);
    Finish(absl::DeadlineExceededError(
        absl::StrCat("--config-check did not finish within ",
                     absl::FormatDuration(timeout_))));
  });
}

void ConfigCheck::ReadOutput() {
  output_pipe_->async_read_some(
      boost::asio::buffer(buffer_),
      [this](boost::system::error_code ec, size_t n) {
        if (ec == boost::asio::error::operation_aborted) return;
        if (ec) {  // EOF: the check and whatever it started are done
          output_done_ = true;
          if (status_) OnChildExit(pid_, *status_);
          return;
        }
        if (output_.size() < kKeptOutput) {
          output_.append(buffer_.data(),
                         std::min(n, kKeptOutput - output_.size()));
        }
        ReadOutput();
      });
}

bool ConfigCheck::OnChildExit(pid_t pid, int status) {
  if (pid <= 0 || pid != pid_) return false;
  status_ = status;
  // Wait for the output too, unless the pipe is held by something it left.
  if (!output_done_) return true;
  if (!done_) return true;
  if (pid1::ExitedCleanly(status)) {
    Finish(absl::OkStatus());
  } else {
    std::string output(absl::StripAsciiWhitespace(output_));
    Finish(absl::FailedPreconditionError(
        absl::StrCat("--config-check ", pid1::DescribeExit(status),
                     output.empty() ? "" : ": ", output)));
  }
  return true;
}

void ConfigCheck::Finish(absl::Status result) {
  auto done = std::move(done_);
  done_ = nullptr;
  deadline_.cancel();
  if (done) done(std::move(result));
}

}  // namespace corral::command
