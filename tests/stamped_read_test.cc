#include "proxy/stamped_read.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock/clock.h"
#include "loopback_listener.h"

namespace corral::proxy {
namespace {

// A connected pair of TCP sockets on loopback.
struct TcpPair {
  int reader = -1;
  int writer = -1;
  TcpPair() {
    uint16_t port = 0;
    const int listener = test_support::ListenLoopback(&port);
    EXPECT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    reader = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(connect(reader, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
    writer = accept(listener, nullptr, nullptr);
    close(listener);
  }
  ~TcpPair() {
    close(reader);
    close(writer);
  }
  void WaitReadable() const {
    pollfd p{reader, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10'000), 1);
  }
};

TEST(StampedReadTest, TheStampIsWhenTheKernelReceivedTheBytesNotWhenRead) {
  TcpPair pair;
  ASSERT_TRUE(StampReceives(pair.reader));
  // The kernel turns receive stamps on a moment after the first socket
  // asks (a deferred switch): until then bytes come unstamped.
  const int64_t deadline = clock::MonotonicNanos() + 10'000'000'000;
  int64_t received = 0;
  int64_t before_send = 0;
  int64_t in_by = 0;
  while (received == 0 && clock::MonotonicNanos() < deadline) {
    before_send = clock::UnixNanos();
    ASSERT_EQ(write(pair.writer, "HTTP/1.1 200 OK\r\n", 17), 17);
    pair.WaitReadable();
    // The bytes are in; whatever happens from here on is the reader's
    // delay.
    in_by = clock::UnixNanos();
    char buf[64];
    ASSERT_EQ(ReceiveStamped(pair.reader, buf, sizeof buf, &received), 17);
  }
  ASSERT_NE(received, 0) << "no receive stamp within 10 s";
  EXPECT_GE(received, before_send);
  EXPECT_LE(received, in_by);
}

TEST(StampedReadTest, AnUnstampedConnectionLeavesTheTimeAlone) {
  TcpPair pair;
  ASSERT_EQ(write(pair.writer, "x", 1), 1);
  pair.WaitReadable();
  char buf[8];
  int64_t received = -1;
  ASSERT_EQ(ReceiveStamped(pair.reader, buf, sizeof buf, &received), 1);
  EXPECT_EQ(received, -1);
}

TEST(StampedReadTest, NothingToReadIsEagainNotAWait) {
  TcpPair pair;
  ASSERT_TRUE(StampReceives(pair.reader));
  char buf[8];
  int64_t received = 0;
  EXPECT_EQ(ReceiveStamped(pair.reader, buf, sizeof buf, &received), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
}

TEST(StampedReadTest, ArrivalMapsOntoTheMonotonicClock) {
  // Received 30 ms before the read, on either clock.
  EXPECT_EQ(ArrivedAt(970, 5'000, 1'000, 4'000), 4'970);
  // Never before the request was sent (a realtime clock stepped back)...
  EXPECT_EQ(ArrivedAt(0, 5'000, 1'000, 4'900), 4'900);
  // ...nor after now (stepped forward).
  EXPECT_EQ(ArrivedAt(2'000, 5'000, 1'000, 4'000), 5'000);
}

}  // namespace
}  // namespace corral::proxy
