// The master's listening sockets: bound once, before any worker starts, and
// inherited by every worker (one accept queue for all of them).
#ifndef CORRAL_MASTER_LISTEN_SOCKET_H_
#define CORRAL_MASTER_LISTEN_SOCKET_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"
#include "options/options.h"

namespace corral::master {

// The kernel's cap on a listen backlog (net.core.somaxconn).
int Somaxconn();

absl::StatusOr<boost::asio::ip::tcp::acceptor> Listen(
    boost::asio::io_context& io, const Endpoint& endpoint, int backlog);

}  // namespace corral::master

#endif  // CORRAL_MASTER_LISTEN_SOCKET_H_
