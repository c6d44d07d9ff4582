#include "http/listener.h"

#include <cerrno>
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

void Listener::Start() { Accept(); }

void Listener::Stop() {
  retry_timer_.cancel();
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void Listener::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec,
                                asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec && !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or buffers: wait a moment instead of spinning; the
      // connection stays queued in the kernel for us or a sibling.
      bool resource = ec.value() == EMFILE || ec.value() == ENFILE ||
                      ec.value() == ENOBUFS || ec.value() == ENOMEM;
      if (resource) {
        log::Warn("accept failed, retrying shortly",
                  {{"error", ec.message()},
                   {"connections", connections_ ? connections_->size() : 0}});
        retry_timer_.expires_after(std::chrono::milliseconds(100));
        retry_timer_.async_wait([this](boost::system::error_code tec) {
          if (!tec) Accept();
        });
        return;
      }
      Accept();  // ECONNABORTED and friends concern one connection only
      return;
    }
    boost::system::error_code opt_ec;
    socket.set_option(asio::ip::tcp::no_delay(true), opt_ec);
    auto session = std::make_shared<Session>(std::move(socket), router_,
                                             limits_, observer_, connections_);
    session->Start();
    // Accepted just as we stopped: serve it, closing after its request,
    // rather than drop a connection the client already sees as open.
    if (!acceptor_.is_open()) {
      session->Drain();
      return;
    }
    Accept();
  });
}

}  // namespace corral::http
