#include "admin/admin_server.h"

namespace corral::admin {
namespace {

using Probe = bool (master::Supervisor::*)(std::string*) const;

http::Handler ProbeHandler(const master::Supervisor& supervisor, Probe probe) {
  return [&supervisor, probe](const http::Request&, http::Respond respond) {
    std::string why;
    bool ok = (supervisor.*probe)(&why);
    respond(http::Response::Text(ok ? 200 : 503, why + "\n"));
  };
}

}  // namespace

AdminServer::AdminServer(boost::asio::io_context& io,
                         boost::asio::ip::tcp::acceptor acceptor,
                         const master::Supervisor& supervisor) {
  port_ = acceptor.local_endpoint().port();
  limits_.max_body_bytes = 64 * 1024;
  limits_.keepalive_timeout = std::chrono::seconds(30);
  limits_.request_timeout = std::chrono::seconds(10);
  limits_.server_header = "corral-admin";
  (void)router_.Add("GET", "/livez",
                    ProbeHandler(supervisor, &master::Supervisor::Live));
  (void)router_.Add("GET", "/readyz",
                    ProbeHandler(supervisor, &master::Supervisor::Ready));
  (void)router_.Add("GET", "/startupz",
                    ProbeHandler(supervisor, &master::Supervisor::Started));
  (void)router_.Add(
      "GET", "/status",
      [this, &supervisor](const http::Request&, http::Respond respond) {
        nlohmann::json j = supervisor.StatusJson();
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
