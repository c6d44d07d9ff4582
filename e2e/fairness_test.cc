// One worker, one event loop: a client pipelining a long burst and a client
// sending half a request must not starve the other connections. Asserted on
// counts of answered requests, never on times.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "harness.h"

namespace corral::e2e {
namespace {

// A connection whose reads give up after 30 s, so a starved test fails
// instead of hanging.
int Connect(uint16_t port) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return -1;
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

bool WriteAll(int fd, const std::string& bytes) {
  for (size_t off = 0; off < bytes.size();) {
    ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads whole responses from one connection; returns their statuses.
class ResponseReader {
 public:
  explicit ResponseReader(int fd) : fd_(fd) {}
  // The next response's status, or 0 when the connection ends first.
  int Next() {
    for (;;) {
      size_t head_end = buf_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t len_at = buf_.find("Content-Length: ");
        size_t length = 0;
        if (len_at != std::string::npos && len_at < head_end) {
          length = std::stoul(buf_.substr(len_at + 16));
        }
        if (buf_.size() >= head_end + 4 + length) {
          int status = std::atoi(buf_.substr(9, 3).c_str());
          buf_.erase(0, head_end + 4 + length);
          return status;
        }
      }
      char chunk[65536];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) return 0;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

const std::string kGet = "GET /products/1 HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(FairnessTest, PipelinedBurstAndSlowClientDoNotStarveOthers) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  const uint16_t port = p->port();

  // Half a request, then silence until the end.
  int slow = Connect(port);
  ASSERT_GE(slow, 0);
  ASSERT_TRUE(WriteAll(slow, "GET /products/2 HTTP/1.1\r\nHo"));

  // Ordinary keep-alive clients, one request at a time, counting answers.
  constexpr int kOthers = 8;
  std::vector<std::atomic<int>> answered(kOthers);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> others;
  for (int i = 0; i < kOthers; ++i) {
    others.emplace_back([&, i] {
      int fd = Connect(port);
      if (fd < 0) {
        ++failures;
        return;
      }
      ResponseReader reader(fd);
      while (!stop) {
        if (!WriteAll(fd, kGet) || reader.Next() != 200) {
          ++failures;
          break;
        }
        ++answered[i];
      }
      close(fd);
    });
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        for (auto& a : answered) {
          if (a == 0) return false;
        }
        return true;
      },
      10s));

  // The burst: many pipelined requests in one go, answers read as they come.
  constexpr int kBurst = 30000;
  int piper = Connect(port);
  ASSERT_GE(piper, 0);
  std::string burst;
  burst.reserve(kBurst * kGet.size());
  for (int i = 0; i < kBurst; ++i) burst += kGet;
  std::thread writer([&] { WriteAll(piper, burst); });
  ResponseReader reader(piper);
  ASSERT_EQ(reader.Next(), 200);
  std::vector<int> at_start(kOthers);
  for (int i = 0; i < kOthers; ++i) at_start[i] = answered[i];
  int burst_ok = 1;
  for (int i = 1; i < kBurst; ++i) {
    if (reader.Next() == 200) ++burst_ok;
  }
  std::vector<int> during(kOthers);
  for (int i = 0; i < kOthers; ++i) during[i] = answered[i] - at_start[i];
  stop = true;
  writer.join();
  for (auto& t : others) t.join();
  close(piper);

  EXPECT_EQ(burst_ok, kBurst);
  EXPECT_EQ(failures, 0);
  // Served one event at a time, the burst takes many turns of the loop and
  // every other connection is answered in between, again and again.
  for (int i = 0; i < kOthers; ++i) {
    EXPECT_GE(during[i], 100) << "connection " << i << " starved by the burst";
  }

  // The slow client was not dropped while it waited: it finishes its request
  // and gets its answer.
  ASSERT_TRUE(WriteAll(slow, "st: x\r\n\r\n"));
  ResponseReader slow_reader(slow);
  EXPECT_EQ(slow_reader.Next(), 200);
  close(slow);
}

}  // namespace
}  // namespace corral::e2e
