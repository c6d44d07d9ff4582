#include "proxy/tunnel.h"

#include <sys/socket.h>

#include <boost/asio/write.hpp>

namespace corral::proxy {

namespace asio = boost::asio;

namespace {
// After our FIN, how long the client may take to close its side.
constexpr std::chrono::seconds kLinger{2};
}  // namespace

Tunnel::Tunnel(asio::any_io_executor executor,
               asio::generic::stream_protocol::socket upstream, bool websocket,
               std::chrono::milliseconds drain_after)
    : executor_(std::move(executor)),
      upstream_(std::move(upstream)),
      websocket_(websocket),
      drain_after_(drain_after) {}

void Tunnel::Start(asio::ip::tcp::socket client, std::string to_client,
                   std::string to_app, std::function<void()> ended) {
  client_.emplace(std::move(client));
  ended_ = std::move(ended);
  to_client_ = std::move(to_client);
  SendToClient();
  SendToUpstream(std::move(to_app));
}

void Tunnel::SendToClient() {
  to_client_pending_ = true;
  asio::async_write(
      *client_, asio::buffer(to_client_),
      [self = shared_from_this()](boost::system::error_code ec, size_t) {
        self->to_client_pending_ = false;
        if (ec || self->ended_already_) {
          self->End();
        } else if (self->closing_) {
          self->Close();
        } else {
          self->ReadUpstream();
        }
      });
}

void Tunnel::ReadUpstream() {
  upstream_.async_read_some(
      asio::buffer(from_upstream_),
      [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        if (ec || self->ended_already_) {
          self->End();
          return;
        }
        self->to_client_.assign(self->from_upstream_.data(), n);
        self->SendToClient();
      });
}

void Tunnel::SendToUpstream(std::string bytes) {
  if (bytes.empty()) {
    ReadClient();
    return;
  }
  auto owned = std::make_shared<std::string>(std::move(bytes));
  asio::async_write(
      upstream_, asio::buffer(*owned),
      [self = shared_from_this(), owned](boost::system::error_code ec, size_t) {
        if (ec || self->ended_already_) {
          self->End();
        } else {
          self->ReadClient();
        }
      });
}

void Tunnel::ReadClient() {
  client_->async_read_some(
      asio::buffer(from_client_),
      [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        if (ec || self->ended_already_) {
          self->End();
          return;
        }
        self->SendToUpstream(std::string(self->from_client_.data(), n));
      });
}

void Tunnel::Drain() {
  if (ended_already_ || timer_ || !client_) return;
  timer_.emplace(executor_);
  timer_->expires_after(drain_after_);
  timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->ended_already_) return;
    self->closing_ = true;
    // A frame half written to the client must end first.
    if (!self->to_client_pending_) self->Close();
  });
}

void Tunnel::Close() {
  if (websocket_) {
    // Close frames with status 1001 (going away): unmasked to the client,
    // masked to the app, as RFC 6455 section 5 has it.
    constexpr unsigned char kToClient[] = {0x88, 0x02, 0x03, 0xE9};
    constexpr unsigned char kMask[] = {0x5A, 0x17, 0xC3, 0x8E};
    const unsigned char to_app[] = {
        0x88,
        0x82,
        kMask[0],
        kMask[1],
        kMask[2],
        kMask[3],
        static_cast<unsigned char>(0x03 ^ kMask[0]),
        static_cast<unsigned char>(0xE9 ^ kMask[1])};
    (void)::send(client_->native_handle(), kToClient, sizeof(kToClient),
                 MSG_NOSIGNAL);
    (void)::send(upstream_.native_handle(), to_app, sizeof(to_app),
                 MSG_NOSIGNAL);
  }
  End();
}

void Tunnel::End() {
  if (ended_already_) return;
  ended_already_ = true;
  boost::system::error_code ec;
  upstream_.shutdown(asio::socket_base::shutdown_send, ec);
  upstream_.close(ec);
  if (timer_) timer_->cancel();
  if (auto ended = std::move(ended_)) ended();
  // FIN first, then read until the client closes (at most kLinger): its
  // own close frame or last bytes then meet a reading socket, not a reset
  // that would destroy ours.
  client_->shutdown(asio::socket_base::shutdown_send, ec);
  timer_.emplace(executor_);
  timer_->expires_after(kLinger);
  timer_->async_wait([self = shared_from_this()](boost::system::error_code) {
    boost::system::error_code ignored;
    self->client_->close(ignored);
  });
  DiscardUntilClosed();
}

void Tunnel::DiscardUntilClosed() {
  client_->async_read_some(
      asio::buffer(from_client_),
      [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (!ec) {
          self->DiscardUntilClosed();
          return;
        }
        boost::system::error_code ignored;
        self->timer_->cancel();
        self->client_->close(ignored);
      });
}

}  // namespace corral::proxy
