// Session, part three: the answer written in parts (ResponseWriter) - the
// head held for the first piece, each piece in the socket before the next
// is asked for, interim 1xx, and the hand-over of the connection after a
// 101.
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "http/connection_set.h"
#include "http/http_date.h"
#include "http/response_head.h"
#include "http/session.h"

namespace corral::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

class Session::Writer : public ResponseWriter {
 public:
  Writer(std::shared_ptr<Session> session, uint64_t seq)
      : session_(std::move(session)), seq_(seq) {}
  // A handler that lets go without finishing leaves the client with a
  // short answer: close, so it knows.
  ~Writer() override {
    if (!Gone()) session_->CloseNow();
  }
  void WriteInterim(int status, const Headers& headers) override {
    if (!Gone()) session_->StreamInterim(status, headers);
  }
  void WriteHead(int status, const Headers& headers,
                 std::optional<uint64_t> content_length) override {
    if (!Gone()) session_->StreamHead(status, headers, content_length);
  }
  void WriteBody(std::string_view data, std::function<void()> sent) override {
    if (!Gone()) session_->StreamBody(data, std::move(sent));
  }
  void Finish() override {
    if (Gone()) return;
    // Finished before the session acts: what StreamFinish lets go of may
    // hold the last reference to this writer, whose destructor must not
    // take an unfinished answer for an abandoned one.
    finished_ = true;
    session_->StreamFinish();
  }
  void Abort() override {
    if (!Gone()) session_->CloseNow();
  }
  bool Gone() const override { return finished_ || session_->StreamGone(seq_); }
  std::optional<TakenConnection> TakeConnection(
      std::function<void()> on_drain) override {
    if (Gone()) return std::nullopt;
    std::optional<TakenConnection> taken =
        session_->HandOver(std::move(on_drain));
    if (taken) finished_ = true;  // the connection is the caller's now
    return taken;
  }

 private:
  std::shared_ptr<Session> session_;
  uint64_t seq_;
  bool finished_ = false;
};

void Session::StreamInterim(int status, const Headers& headers) {
  if (version_ == 10 || streaming_ || status == 100) return;
  std::string head;
  AppendResponseHead({.status = status, .headers = &headers}, &head);
  // Best effort, as with 100 Continue: the send buffer is empty now.
  (void)::send(fd_, head.data(), head.size(), MSG_NOSIGNAL);
}

void Session::StreamHead(int status, const Headers& headers,
                         std::optional<uint64_t> content_length) {
  if (streaming_) return;
  // Transfer codings the handler names (a proxied "gzip") frame the body
  // by themselves: no Content-Length, and chunked goes last, added here.
  std::string_view codings;
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, "transfer-encoding")) codings = value;
  }
  if (!codings.empty()) content_length.reset();
  stream_status_ = status;
  stream_has_body_ = !(status / 100 == 1 || status == 204 || status == 304 ||
                       request_.method == "HEAD");
  stream_chunked_ = stream_has_body_ && !content_length && version_ != 10;
  bool keep_alive = request_keep_alive_ && !draining_ &&
                    (content_length || stream_chunked_ || !stream_has_body_);
  out_.clear();
  out_sent_ = 0;
  std::string transfer_encoding;
  if (!codings.empty() && stream_has_body_ && version_ != 10) {
    transfer_encoding =
        absl::StrCat(absl::string_view(codings.data(), codings.size()),
                     stream_chunked_ ? ", chunked" : "");
  } else if (stream_chunked_) {
    transfer_encoding = "chunked";
  }
  ResponseHead head;
  head.version = version_;
  head.status = status;
  head.headers = &headers;
  head.server = limits_.server_header;
  head.date = ThreadDateCache().Now();
  if (stream_has_body_ || request_.method == "HEAD") {
    head.content_length = content_length;
  }
  head.transfer_encoding = transfer_encoding;
  head.connection = ConnectionField(keep_alive);
  AppendResponseHead(head, &out_);
  close_after_write_ = !keep_alive;
  streaming_ = true;
  stream_held_ = true;
  FlushHeldLater();
}

void Session::FlushHeldLater() {
  if (held_flush_posted_) return;
  held_flush_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->held_flush_posted_ = false;
    if (!self->stream_held_ || self->phase_ != Phase::kHandling) return;
    self->stream_held_ = false;
    self->Flush();
  });
}

void Session::StreamBody(std::string_view data, std::function<void()> sent) {
  const bool held = stream_held_;  // so streaming, and not writing yet
  if (streaming_ && phase_ == Phase::kWriting) {  // the head is still going
    stream_next_.assign(data.data(), data.size());
    stream_next_set_ = true;
    stream_sent_ = std::move(sent);
    return;
  }
  if (!streaming_ || phase_ != Phase::kHandling) return;
  if (!held) {
    out_.clear();
    out_sent_ = 0;
  }
  if (stream_has_body_ && !data.empty()) {
    if (stream_chunked_) {
      absl::StrAppend(&out_, absl::Hex(data.size()), "\r\n",
                      absl::string_view(data.data(), data.size()), "\r\n");
    } else {
      out_.append(data);
    }
  }
  stream_sent_ = std::move(sent);
  if (held) return;  // with the head, at the end or the posted flush
  Flush();
}

void Session::StreamFinish() {
  if (streaming_ && phase_ == Phase::kWriting) {
    stream_finish_next_ = true;
    return;
  }
  if (!streaming_ || phase_ != Phase::kHandling) return;
  streaming_ = false;
  if (!stream_held_) {
    out_.clear();
    out_sent_ = 0;
  }
  stream_held_ = false;
  // Nothing is asked for after the end; let go of at return, when the
  // session's state is whole again.
  std::function<void()> dropped = std::move(stream_sent_);
  stream_sent_ = nullptr;
  if (stream_chunked_) out_ += "0\r\n\r\n";
  EndRequest(stream_status_);
  Flush();
}

std::optional<TakenConnection> Session::HandOver(
    std::function<void()> on_drain) {
  if (streaming_ || phase_ != Phase::kHandling || fd_ < 0) return std::nullopt;
  // The descriptor leaves the poller for an Asio socket of the caller's.
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
  connections_->poller().Remove(fd_, this);
  asio::ip::tcp::socket client(executor_);
  beast::error_code ec;
  client.assign(
      local.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(),
      fd_, ec);
  if (ec) {
    connections_->poller().Add(fd_, this);
    CloseNow();
    return std::nullopt;
  }
  fd_ = -1;
  phase_ = Phase::kTunnel;
  on_tunnel_drain_ = std::move(on_drain);
  // What the client sent after its request is in the buffer already.
  std::string early = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  if (draining_ && on_tunnel_drain_) {
    asio::post(executor_, [self = shared_from_this()] { self->Drain(); });
  }
  // The request stays in flight, and the session in the connection set
  // (so a drain reaches the tunnel), until the caller says it ended.
  auto ended = [self = shared_from_this()] {
    if (self->phase_ != Phase::kTunnel) return;
    self->on_tunnel_drain_ = nullptr;
    self->EndRequest(101);
    self->phase_ = Phase::kClosed;
    if (self->self_) {
      asio::post(self->executor_, [held = std::move(self->self_)] {});
    }
  };
  return TakenConnection{std::move(client), std::move(early), std::move(ended)};
}

std::shared_ptr<ResponseWriter> Session::NewWriter(uint64_t seq) {
  return std::make_shared<Writer>(shared_from_this(), seq);
}

}  // namespace corral::http
