// Whose is the listener on an app process's port: /proc/net/tcp text, and
// real sockets held by this process, a child and a grandchild.
#include "command/listener_owner.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "command/app_endpoint.h"
#include "loopback_listener.h"

namespace corral::command {
namespace {

// Port 8080 is 1F90; the inode is the tenth field.
constexpr char kTcp[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n"
    // Any address: reached from 127.0.0.1 too.
    "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 1002 1 0000000000000000 100 0 0 10 0\n"
    // 127.0.0.2: not reached from 127.0.0.1.
    "   2: 0200007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 1003 1 0000000000000000 100 0 0 10 0\n"
    // Another port.
    "   3: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 1004 1 0000000000000000 100 0 0 10 0\n"
    // A connection from port 8080 (established, 01): no listener.
    "   4: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 "
    "00000000     0        0 1005 1 0000000000000000 20 4 30 10 -1\n"
    "   5: garbage\n";

constexpr char kTcp6[] =
    "  sl  local_address                         remote_address           "
    "             st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    // ::
    "   0: 00000000000000000000000000000000:1F90 "
    "00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n"
    // ::1: not reached from 127.0.0.1.
    "   1: 00000000000000000000000001000000:1F90 "
    "00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 2002 1 0000000000000000 100 0 0 10 0\n"
    // ::ffff:127.0.0.1
    "   2: 0000000000000000FFFF00000100007F:1F90 "
    "00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 "
    "00000000     0        0 2003 1 0000000000000000 100 0 0 10 0\n";

TEST(ListenerOwnerTest, ListenersReachedFromLoopbackOnThePortAreFound) {
  EXPECT_EQ(LoopbackListenerInodes(kTcp, 8080),
            (std::vector<uint64_t>{1001, 1002}));
  EXPECT_EQ(LoopbackListenerInodes(kTcp, 8081), (std::vector<uint64_t>{1004}));
  EXPECT_TRUE(LoopbackListenerInodes(kTcp, 8082).empty());
  EXPECT_TRUE(LoopbackListenerInodes("", 8080).empty());
}

TEST(ListenerOwnerTest, Ipv6ListenersCountForAnyAndTheMappedLoopback) {
  // The words as a little-endian host prints them; the fixture is of one.
  if (htonl(1) == 1) GTEST_SKIP() << "a big-endian host prints other words";
  EXPECT_EQ(LoopbackListenerInodes(kTcp6, 8080),
            (std::vector<uint64_t>{2001, 2003}));
}

using test_support::ListenLoopback;

// A child that holds no socket and waits to be killed; with
// `grandchild_listens`, its own child listens on a port it sends back.
struct Child {
  pid_t pid = -1;
  uint16_t port = 0;
};

Child StartChild(bool grandchild_listens) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (grandchild_listens && fork() == 0) {
      uint16_t port = 0;
      int fd = ListenLoopback(&port);
      if (fd < 0 || write(fds[1], &port, sizeof(port)) != sizeof(port)) {
        _exit(1);
      }
      close(fds[1]);
      pause();
      _exit(0);
    }
    if (!grandchild_listens) {
      uint16_t none = 0;
      (void)!write(fds[1], &none, sizeof(none));
    }
    close(fds[1]);
    pause();
    _exit(0);
  }
  close(fds[1]);
  Child c;
  c.pid = pid;
  if (read(fds[0], &c.port, sizeof(c.port)) != sizeof(c.port)) c.pid = -1;
  close(fds[0]);
  return c;
}

void Stop(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" +
                   std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t p = 0; in >> p;) out.push_back(p);
  return out;
}

TEST(ListenerOwnerTest, AListenerIsItsHoldersAndNotAnotherProcesss) {
  // The child first: forked later, it would hold the socket too.
  Child other = StartChild(false);
  ASSERT_GT(other.pid, 0);
  uint16_t port = 0;
  int fd = ListenLoopback(&port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(LoopbackListenerOwner(getpid(), port), ListenerOwner::kTree);
  EXPECT_EQ(LoopbackListenerOwner(other.pid, port), ListenerOwner::kOther);
  // What the readiness probe asks: the other process is not accepting,
  // though the port is.
  AppEndpoint e = AppEndpoint::Port(port);
  EXPECT_TRUE(e.Accepting());
  EXPECT_TRUE(e.AcceptingFrom(getpid()));
  EXPECT_FALSE(e.AcceptingFrom(other.pid));
  close(fd);
  EXPECT_FALSE(e.AcceptingFrom(getpid()));
  EXPECT_EQ(LoopbackListenerOwner(getpid(), port), ListenerOwner::kOther);
  Stop(other.pid);
}

TEST(ListenerOwnerTest, AListenerOfAProcessBelowCountsForItsTree) {
  Child parent = StartChild(true);
  ASSERT_GT(parent.pid, 0);
  ASSERT_GT(parent.port, 0);
  Child stranger = StartChild(false);
  ASSERT_GT(stranger.pid, 0);
  EXPECT_EQ(LoopbackListenerOwner(parent.pid, parent.port),
            ListenerOwner::kTree);
  EXPECT_TRUE(AppEndpoint::Port(parent.port).AcceptingFrom(parent.pid));
  EXPECT_EQ(LoopbackListenerOwner(stranger.pid, parent.port),
            ListenerOwner::kOther);
  EXPECT_FALSE(AppEndpoint::Port(parent.port).AcceptingFrom(stranger.pid));

  // The grandchild first: once its parent is gone, it is no child of ours.
  for (pid_t p : ChildrenOf(parent.pid)) kill(p, SIGKILL);
  Stop(parent.pid);
  Stop(stranger.pid);
}

}  // namespace
}  // namespace corral::command
