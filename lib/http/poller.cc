#include "http/poller.h"

#include <unistd.h>

#include <cerrno>

namespace corral::http {

namespace asio = boost::asio;

Poller::Poller(const asio::any_io_executor& executor) : epoll_(executor) {
  Open();
}

bool Poller::Open() {
  if (epoll_.is_open()) return true;
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return false;
  boost::system::error_code ec;
  epoll_.assign(fd, ec);
  if (ec) ::close(fd);
  return !ec;
}

Poller::~Poller() {
  boost::system::error_code ec;
  epoll_.close(ec);
}

bool Poller::Add(int fd, Client* client) {
  if (!Open()) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.ptr = client;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return false;
  }
  ++watched_;
  Wait();
  return true;
}

void Poller::Remove(int fd, Client* client) {
  if (!epoll_.is_open()) return;
  // Explicit, not left to close(): a forked child may hold the descriptor.
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr) == 0) {
    --watched_;
  }
  for (int i = current_ + 1; i < taken_; ++i) {
    if (events_[i].data.ptr == client) events_[i].data.ptr = nullptr;
  }
}

void Poller::Wait() {
  if (waiting_ || watched_ == 0) return;
  waiting_ = true;
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      if (ec) return;  // closed: this poller is gone
                      waiting_ = false;
                      Dispatch();
                      Wait();
                    });
}

void Poller::Dispatch() {
  int n;
  do {
    n = ::epoll_wait(epoll_.native_handle(), events_.data(), kMaxEvents, 0);
  } while (n < 0 && errno == EINTR);
  taken_ = n < 0 ? 0 : n;
  for (current_ = 0; current_ < taken_; ++current_) {
    auto* client = static_cast<Client*>(events_[current_].data.ptr);
    if (client != nullptr) client->OnReady(events_[current_].events);
  }
  taken_ = 0;
  current_ = 0;
}

}  // namespace corral::http
