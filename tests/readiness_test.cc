#include "command/readiness.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace corral::command {
namespace {

TEST(ReadinessTest, NotifyMessagesSplitIntoAssignments) {
  auto f = ParseNotify("READY=1\nSTATUS=warming up: 3/5\n\nnoise");
  EXPECT_EQ(f.size(), 2u);
  EXPECT_EQ(f["READY"], "1");
  EXPECT_EQ(f["STATUS"], "warming up: 3/5");
  EXPECT_EQ(ParseNotify("WATCHDOG=1")["WATCHDOG"], "1");
}

TEST(ReadinessTest, TheLogSaysHowEachModeDecides) {
  EXPECT_EQ(DescribeReadiness(Readiness::kNotify, absl::Seconds(1), false),
            "when it sends READY=1 on $NOTIFY_SOCKET");
  EXPECT_EQ(DescribeReadiness(Readiness::kPipe, absl::Seconds(1), false),
            "when it writes a line to descriptor $CORRAL_READY_FD");
  EXPECT_EQ(DescribeReadiness(Readiness::kPort, absl::Seconds(1), false),
            "when it accepts connections on 127.0.0.1:$PORT");
  EXPECT_EQ(DescribeReadiness(Readiness::kPort, absl::Seconds(1), true),
            "when it accepts connections on its unix socket $PORT");
  EXPECT_EQ(DescribeReadiness(Readiness::kAlive, absl::Milliseconds(250), false)
                .rfind("once alive for 250ms", 0),
            0u);
}

// What a copy does: a datagram to $NOTIFY_SOCKET (abstract, "@name").
void SendNotify(const std::string& address, const std::string& message) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, address.data() + 1, address.size() - 1);
  socklen_t len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  EXPECT_EQ(sendto(fd, message.data(), message.size(), 0,
                   reinterpret_cast<sockaddr*>(&addr), len),
            static_cast<ssize_t>(message.size()));
  close(fd);
}

struct Heard {
  std::vector<std::string> ready;
  int watchdogs = 0;
  std::string status;
  int stopping = 0;
};

ReadyChannels::Handlers Record(Heard& h) {
  return {[&h](std::string_view how) { h.ready.emplace_back(how); },
          [&h]() { ++h.watchdogs; },
          [&h](const std::string& s) { h.status = s; },
          [&h]() { ++h.stopping; }};
}

// Runs the io_context until `done` holds (or a generous deadline passes).
template <typename Done>
void RunUntil(boost::asio::io_context& io, Done done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(10));
  }
}

std::string UniqueName(const char* what) {
  return "corral-test/" + std::to_string(getpid()) + "/" + what;
}

TEST(ReadinessTest, NotifyCarriesReadyWatchdogStatusAndStopping) {
  boost::asio::io_context io;
  auto c = ReadyChannels::Open(io, UniqueName("notify"), Readiness::kNotify);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->notify_address(), "@" + UniqueName("notify"));
  Heard heard;
  (*c)->Start(Record(heard));
  SendNotify((*c)->notify_address(), "STATUS=warming\nWATCHDOG=1");
  SendNotify((*c)->notify_address(), "READY=1");
  SendNotify((*c)->notify_address(), "STOPPING=1");
  RunUntil(io, [&] { return heard.stopping == 1; });
  EXPECT_EQ(heard.status, "warming");
  EXPECT_EQ(heard.watchdogs, 1);
  EXPECT_EQ(heard.ready, std::vector<std::string>{"READY=1"});
  EXPECT_EQ(heard.stopping, 1);
}

TEST(ReadinessTest, EachModeCountsOnlyItsOwnChannel) {
  for (Readiness mode :
       {Readiness::kNotify, Readiness::kPipe, Readiness::kAlive}) {
    boost::asio::io_context io;
    std::string name = UniqueName(std::string(ReadinessName(mode)).c_str());
    auto c = ReadyChannels::Open(io, name, mode);
    ASSERT_TRUE(c.ok()) << c.status();
    Heard heard;
    (*c)->Start(Record(heard));
    // The pipe in two writes: a line counts once it is whole.
    ASSERT_EQ(write((*c)->pipe_write_fd(), "up", 2), 2);
    ASSERT_EQ(write((*c)->pipe_write_fd(), "\n", 1), 1);
    SendNotify((*c)->notify_address(), "READY=1");
    // STOPPING=1 after both: once it is heard, so are they.
    SendNotify((*c)->notify_address(), "STOPPING=1");
    RunUntil(io, [&] { return heard.stopping == 1; });
    io.run_for(std::chrono::milliseconds(20));
    std::vector<std::string> want;
    if (mode != Readiness::kNotify) want.push_back("a line on the ready pipe");
    if (mode != Readiness::kPipe) want.push_back("READY=1");
    std::sort(heard.ready.begin(), heard.ready.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(heard.ready, want) << ReadinessName(mode);
  }
}

TEST(ReadinessTest, ClosingTheCopysEndIsNotReady) {
  boost::asio::io_context io;
  auto c = ReadyChannels::Open(io, UniqueName("eof"), Readiness::kPipe);
  ASSERT_TRUE(c.ok()) << c.status();
  Heard heard;
  (*c)->Start(Record(heard));
  (*c)->ClosePipeWriteEnd();
  EXPECT_EQ((*c)->pipe_write_fd(), -1);
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(heard.ready.empty());
}

}  // namespace
}  // namespace corral::command
