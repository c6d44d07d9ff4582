// The master's admin HTTP server: probes, status and metrics. It runs on the
// master's loop and its own port, so app traffic never queues in front of a
// probe.
#ifndef CORRAL_ADMIN_ADMIN_SERVER_H_
#define CORRAL_ADMIN_ADMIN_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "http/listener.h"
#include "http/router.h"
#include "http/session.h"
#include "pool/pool.h"

namespace corral::admin {

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& io,
              boost::asio::ip::tcp::acceptor acceptor,
              const pool::PoolView& pool);

  // Adds a route next to the probes (the metrics endpoint, say).
  void Add(std::string_view path, http::Handler handler);
  // More top-level fields for /status (the config, say).
  void SetStatusExtra(std::function<nlohmann::json()> f) {
    extra_ = std::move(f);
  }
  void Start() { listener_->Start(); }
  void Stop() { listener_->Stop(); }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  std::function<nlohmann::json()> extra_;
  http::Router router_;
  http::SessionLimits limits_;
  http::ConnectionSet connections_;
  std::unique_ptr<http::Listener> listener_;
};

}  // namespace corral::admin

#endif  // CORRAL_ADMIN_ADMIN_SERVER_H_
