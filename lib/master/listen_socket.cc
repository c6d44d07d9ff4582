#include "master/listen_socket.h"

#include <sys/socket.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace corral::master {

namespace asio = boost::asio;
using asio::ip::tcp;

int Somaxconn() {
  std::ifstream in("/proc/sys/net/core/somaxconn");
  int n = 0;
  if (in >> n && n > 0) return n;
  return SOMAXCONN;
}

absl::StatusOr<tcp::acceptor> Listen(asio::io_context& io, const Endpoint& e,
                                     int backlog) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(e.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", e.host, "\" is not an IP address"));
  }
  tcp::endpoint endpoint(address, e.port);
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", FormatEndpoint(e), ": ", ec.message()));
  }
  return acceptor;
}

}  // namespace corral::master
