// A connection after the app switched protocols (101, a WebSocket): bytes
// relayed both ways between the client and the app process until either
// side closes. The session hands the client's socket over
// (ResponseWriter::TakeConnection); the tunnel is proxy mode's alone.
#ifndef CORRAL_PROXY_TUNNEL_H_
#define CORRAL_PROXY_TUNNEL_H_

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace corral::proxy {

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  // `websocket`: the upgrade was to WebSocket, so a drain sends close
  // frames. `drain_after`: how long a drained tunnel stays open
  // (--websocket-drain).
  Tunnel(boost::asio::any_io_executor executor,
         boost::asio::generic::stream_protocol::socket upstream, bool websocket,
         std::chrono::milliseconds drain_after);

  // Starts relaying: `to_client` (the 101 and what the app sent after it)
  // goes to the client first, `to_app` (what the client sent after its
  // request) to the app. `ended` runs once, when either side closes (the
  // client's socket then lingers until it closes too, at most 2 s).
  void Start(boost::asio::ip::tcp::socket client, std::string to_client,
             std::string to_app, std::function<void()> ended);
  // Closes the tunnel after `drain_after`, with close code 1001 (going
  // away) to both sides when it carries a WebSocket.
  void Drain();

 private:
  // The two directions: read one side, write it all to the other, then
  // read again.
  void SendToClient();
  void ReadUpstream();
  void SendToUpstream(std::string bytes);
  void ReadClient();
  // Close frames (1001) when it is a WebSocket, then both sides closed.
  void Close();
  void End();
  void DiscardUntilClosed();

  boost::asio::any_io_executor executor_;
  std::optional<boost::asio::ip::tcp::socket> client_;
  boost::asio::generic::stream_protocol::socket upstream_;
  const bool websocket_;
  const std::chrono::milliseconds drain_after_;
  std::string to_client_;  // being written to the client
  std::array<char, 16384> from_upstream_{};
  std::array<char, 16384> from_client_{};
  std::function<void()> ended_;
  std::optional<boost::asio::steady_timer> timer_;  // drain, then linger
  bool to_client_pending_ = false;
  bool closing_ = false;  // close once the write to the client is done
  bool ended_already_ = false;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_TUNNEL_H_
