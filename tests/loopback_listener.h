// What several unit tests need of the network: a listening TCP socket on
// 127.0.0.1.
#ifndef CORRAL_TESTS_LOOPBACK_LISTENER_H_
#define CORRAL_TESTS_LOOPBACK_LISTENER_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace corral::test_support {

// A listening socket on 127.0.0.1, on a port the kernel picks (into
// `*port`); -1 when it cannot be made.
inline int ListenLoopback(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd, 8) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace corral::test_support

#endif  // CORRAL_TESTS_LOOPBACK_LISTENER_H_
