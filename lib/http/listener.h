// Accepts connections on a listening socket and starts a Session for each.
#ifndef CORRAL_HTTP_LISTENER_H_
#define CORRAL_HTTP_LISTENER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "http/router.h"
#include "http/session.h"

namespace corral::http {

class Listener {
 public:
  Listener(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor acceptor,
           const Router& router, const SessionLimits& limits,
           SessionObserver* observer, ConnectionSet* connections);

  void Start();
  // Asked before each accept; while it says no, this process leaves new
  // connections to its siblings on the shared socket and asks again shortly.
  void SetAcceptGate(std::function<bool()> gate) { gate_ = std::move(gate); }
  // Accepts every connection already queued on the socket, whatever the
  // gate says, and starts its session; returns how many. A drain calls it
  // right before Stop, so a connection the kernel queued is served rather
  // than reset when the socket's last descriptor closes.
  size_t TakeQueued();
  // Closes this process's descriptor only. Never shutdown(2): the socket is
  // shared with sibling workers and would stop accepting in all of them.
  void Stop();

 private:
  // Connections taken per readiness event before others get a turn.
  static constexpr int kAcceptBatch = 64;

  void Accept();
  void AcceptBatch();
  void StartSession(int fd);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  const Router& router_;
  const SessionLimits& limits_;
  SessionObserver* observer_;
  ConnectionSet* connections_;
  std::function<bool()> gate_;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_LISTENER_H_
