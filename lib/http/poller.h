// The readiness of one event loop's connections, from an epoll set of its
// own: each connection is registered once, edge-triggered for reading and
// writing, as nginx does. Through Asio 1.74 every wait for a connection
// costs a system call of its own: a queued read first tries recv(), which
// finds nothing (the client has not had its answer yet), and a queued wait
// re-arms epoll with epoll_ctl(). Asio waits on this set's descriptor; one
// turn takes every ready connection, up to kMaxEvents.
#ifndef CORRAL_HTTP_POLLER_H_
#define CORRAL_HTTP_POLLER_H_

#include <sys/epoll.h>

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>

namespace corral::http {

class Poller {
 public:
  class Client {
   public:
    // `events` are epoll's: EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR.
    virtual void OnReady(uint32_t events) = 0;

   protected:
    ~Client() = default;
  };

  explicit Poller(const boost::asio::any_io_executor& executor);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Watches fd for client until Remove; false when epoll refuses it.
  bool Add(int fd, Client* client);
  // Stops watching fd; events already taken for client are dropped.
  void Remove(int fd, Client* client);

 private:
  static constexpr int kMaxEvents = 128;

  // Creates the epoll set; out of descriptors, the next Add tries again.
  bool Open();
  // Waits for the set while it watches anything: an armed wait keeps the
  // io_context's run() from returning.
  void Wait();
  void Dispatch();

  boost::asio::posix::stream_descriptor epoll_;
  int watched_ = 0;
  bool waiting_ = false;
  std::array<epoll_event, kMaxEvents> events_{};
  int taken_ = 0;    // events of the turn in hand
  int current_ = 0;  // the one being dispatched
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_POLLER_H_
