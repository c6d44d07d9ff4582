#include "http/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "log/log.h"

namespace corral::http {

namespace asio = boost::asio;

Listener::Listener(asio::io_context& io, asio::ip::tcp::acceptor acceptor,
                   const Router& router, const SessionLimits& limits,
                   SessionObserver* observer, ConnectionSet* connections)
    : acceptor_(std::move(acceptor)),
      retry_timer_(io),
      router_(router),
      limits_(limits),
      observer_(observer),
      connections_(connections) {}

void Listener::Start() {
  // accept4() must not block. The flag is on the open file description, so
  // sibling workers sharing it see it too; Asio's async accept set it anyway.
  boost::system::error_code ec;
  acceptor_.non_blocking(true, ec);
  AcceptBatch();
}

void Listener::Stop() {
  retry_timer_.cancel();
  boost::system::error_code ec;
  acceptor_.close(ec);
}

size_t Listener::TakeQueued() {
  size_t taken = 0;
  if (!acceptor_.is_open()) return taken;
  for (;;) {
    int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      // EAGAIN: the queue is empty. Out of descriptors: a sibling still
      // accepting may take the rest.
      return taken;
    }
    StartSession(fd);
    ++taken;
  }
}

void Listener::Accept() {
  // A wait, then accept4() until the queue is empty: an async_accept that
  // succeeds at once queues its completion behind every ready connection,
  // so under load a worker took one connection per pass of its loop and
  // clients waited seconds for their first answer.
  acceptor_.async_wait(asio::ip::tcp::acceptor::wait_read,
                       [this](boost::system::error_code ec) {
                         if (ec == asio::error::operation_aborted) return;
                         if (!acceptor_.is_open()) return;
                         AcceptBatch();
                       });
}

void Listener::AcceptBatch() {
  if (!acceptor_.is_open()) return;
  for (int i = 0; i < kAcceptBatch; ++i) {
    if (gate_ && !gate_()) {
      retry_timer_.expires_after(std::chrono::milliseconds(5));
      retry_timer_.async_wait([this](boost::system::error_code tec) {
        if (!tec && acceptor_.is_open()) AcceptBatch();
      });
      return;
    }
    int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        Accept();  // drained: the next connection brings a new edge
        return;
      }
      // Out of descriptors or buffers: wait a moment instead of spinning;
      // the connection stays queued in the kernel for us or a sibling.
      log::Warn("accept failed, retrying shortly",
                {{"error", std::strerror(err)},
                 {"connections", connections_ ? connections_->size() : 0}});
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](boost::system::error_code tec) {
        if (!tec && acceptor_.is_open()) AcceptBatch();
      });
      return;
    }
    StartSession(fd);
  }
  // More may be queued: take them after the connections already ready.
  asio::post(retry_timer_.get_executor(), [this] {
    if (acceptor_.is_open()) AcceptBatch();
  });
}

void Listener::StartSession(int fd) {
  // The session owns the descriptor; it never becomes an Asio socket,
  // whose registration with Asio's epoll would see every event again.
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  auto session =
      std::make_shared<Session>(fd, retry_timer_.get_executor(), router_,
                                limits_, observer_, connections_);
  session->Start();
}

}  // namespace corral::http
