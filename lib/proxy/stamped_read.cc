#include "proxy/stamped_read.h"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace corral::proxy {

bool StampReceives(int fd) {
  const int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
}

ssize_t ReceiveStamped(int fd, void* data, size_t size,
                       int64_t* received_unix_ns) {
  iovec iov{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n <= 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *received_unix_ns = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return n;
}

int64_t ArrivedAt(int64_t received_unix_ns, int64_t now_ns, int64_t now_unix_ns,
                  int64_t not_before_ns) {
  const int64_t waited = now_unix_ns - received_unix_ns;
  return std::clamp(now_ns - waited, std::min(not_before_ns, now_ns), now_ns);
}

}  // namespace corral::proxy
