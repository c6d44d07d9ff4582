#include "admin/admin_server.h"

namespace corral::admin {
namespace {

using Probe = pool::ProbeResult (pool::PoolView::*)() const;

http::Handler ProbeHandler(const pool::PoolView& pool, Probe probe) {
  return [&pool, probe](const http::Request&, http::Respond respond) {
    pool::ProbeResult r = (pool.*probe)();
    respond(http::Response::Text(r.ok ? 200 : 503, r.why + "\n"));
  };
}

}  // namespace

AdminServer::AdminServer(boost::asio::io_context& io,
                         boost::asio::ip::tcp::acceptor acceptor,
                         const pool::PoolView& pool) {
  port_ = acceptor.local_endpoint().port();
  limits_.max_body_bytes = 64 * 1024;
  limits_.keepalive_timeout = std::chrono::seconds(30);
  limits_.request_timeout = std::chrono::seconds(10);
  limits_.server_header = "corral-admin";
  (void)router_.Add("GET", "/livez", ProbeHandler(pool, &pool::PoolView::Live));
  (void)router_.Add("GET", "/readyz",
                    ProbeHandler(pool, &pool::PoolView::Ready));
  (void)router_.Add("GET", "/startupz",
                    ProbeHandler(pool, &pool::PoolView::Started));
  (void)router_.Add("GET", "/status",
                    [this, &pool](const http::Request&, http::Respond respond) {
                      nlohmann::json j = pool.StatusJson();
                      if (extra_) j.update(extra_());
                      respond(http::Response::Json(200, j.dump(2) + "\n"));
                    });
  listener_ = std::make_unique<http::Listener>(io, std::move(acceptor), router_,
                                               limits_, nullptr, &connections_);
}

void AdminServer::Add(std::string_view path, http::Handler handler) {
  (void)router_.Add("GET", path, std::move(handler));
}

}  // namespace corral::admin
