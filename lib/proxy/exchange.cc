#include "proxy/exchange.h"

#include <sys/socket.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clock/clock.h"
#include "http/feed_parser.h"
#include "http/response_head.h"
#include "log/log.h"
#include "pool/worker_env.h"
#include "proxy/balancer.h"
#include "proxy/forward.h"
#include "proxy/proxy.h"
#include "proxy/stamped_read.h"
#include "proxy/tunnel.h"

namespace corral::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr size_t kBodyPiece = 16 * 1024;
// The bound on the app's header section, and on each chunk-size line and
// trailer section after it (see http/feed_parser.h).
constexpr size_t kMaxResponseHead = 64 * 1024;
// One read from an app process's connection.
constexpr size_t kReadPiece = 16 * 1024;

http::Headers FieldsOf(const bhttp::fields& fields) {
  http::Headers out;
  for (const auto& f : fields) {
    out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return out;
}

bool IsWebSocket(std::string_view upgrade) {
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(absl::string_view(
                                    upgrade.data(), upgrade.size())),
                                "websocket");
}

}  // namespace

bool MayRetry(Failure failure, std::string_view method, bool retried_already) {
  if (retried_already) return false;
  if (failure == Failure::kConnect) return true;
  return failure == Failure::kLostBeforeAnswer &&
         (method == "GET" || method == "HEAD");
}

Exchange::Exchange(Proxy& proxy, const http::Request& request,
                   std::shared_ptr<http::ResponseWriter> writer,
                   overload::Priority priority)
    : proxy_(proxy),
      writer_(std::move(writer)),
      method_(request.method),
      upgrade_(!UpgradeWanted(request).empty()),
      websocket_(IsWebSocket(UpgradeWanted(request))),
      http10_(request.version == 10),
      head_(UpstreamRequestHead(request)),
      body_(request.body),
      timer_(proxy.io()),
      deadline_(proxy.io()),
      priority_(priority) {}

void Exchange::Start(int app) {
  app_ = app;
  sent_ns_ = clock::MonotonicNanos();
  upstream_ = proxy_.pool().Take(app);
  reused_ = upstream_ != nullptr;
  if (reused_) {
    Write();
  } else {
    Connect();
  }
}

void Exchange::Arm() {
  timed_out_ = false;
  timer_.expires_after(proxy_.settings().upstream_timeout);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || !self->upstream_) return;
    self->timed_out_ = true;
    boost::system::error_code ignored;
    self->upstream_->socket.close(ignored);  // the pending operation fails
  });
}

void Exchange::WatchDeadline() {
  const std::chrono::milliseconds deadline = proxy_.settings().request_deadline;
  if (deadline.count() <= 0) return;
  deadline_.expires_after(deadline);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->PastDeadline();
  });
}

// The session answers the client 504 on its own sweep; what is left is the
// app process, stuck or too slow: the master recycles it, replacement first,
// and it finishes its other requests before its stop signal. A request
// still queued has no app process to blame.
void Exchange::PastDeadline() {
  if (app_ < 0 || tunnel_) return;
  region::WorkerSlot& slot = proxy_.region().slot(app_);
  if (slot.recycle_requested.exchange(1, std::memory_order_acq_rel) != 0) {
    return;
  }
  log::Warn(
      "app process held a request past --request-deadline; asking the "
      "master to recycle it",
      {{"app_slot", app_}, {"method", method_}});
}

void Exchange::Connect() {
  const region::WorkerSlot& slot = proxy_.region().slot(app_);
  upstream_ = std::make_unique<Upstream>(proxy_.io());
  upstream_->app = app_;
  upstream_->port = slot.upstream_port.load(std::memory_order_acquire);
  Arm();
  const std::string& sockets = proxy_.settings().app_sockets;
  const bool unix = !sockets.empty();
  asio::generic::stream_protocol::endpoint to =
      unix ? asio::generic::stream_protocol::endpoint(
                 asio::local::stream_protocol::endpoint(
                     pool::AppSocketPath(sockets, upstream_->port)))
           : asio::generic::stream_protocol::endpoint(tcp::endpoint(
                 asio::ip::address_v4::loopback(), upstream_->port));
  upstream_->socket.async_connect(
      to, [self = shared_from_this(), unix](boost::system::error_code ec) {
        if (ec) {
          self->Fail(self->timed_out_ ? Failure::kTimeout : Failure::kConnect,
                     ec.message());
          return;
        }
        boost::system::error_code ignored;
        if (!unix) {
          self->upstream_->socket.set_option(tcp::no_delay(true), ignored);
          if (self->proxy_.settings().adaptive) {
            self->upstream_->stamped =
                StampReceives(self->upstream_->socket.native_handle());
          }
        }
        self->Write();
      });
}

void Exchange::Write() {
  Arm();
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_),
                                               asio::buffer(body_)};
  asio::async_write(
      upstream_->socket, buffers,
      [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) {
          self->Fail(
              self->timed_out_ ? Failure::kTimeout : Failure::kLostBeforeAnswer,
              ec.message());
          return;
        }
        self->ReadHead();
      });
}

void Exchange::ReadHead() {
  parser_.emplace();
  parser_->header_limit(kMaxResponseHead);
  // No limit: the body streams through. (Not boost::none, which Beast
  // 1.74 compares as smaller than any length.)
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  if (method_ == "HEAD") parser_->skip(true);
  head_received_unix_ns_ = 0;
  Arm();
  ParseHead();
}

void Exchange::ParseHead() {
  beast::flat_buffer& in = upstream_->buffer;
  while (in.size() > 0) {
    const http::Fed fed =
        http::FeedParser(*parser_, in.data(), kMaxResponseHead);
    in.consume(fed.used);
    if (fed.too_large) {
      Fail(Failure::kBroken, "the app's response header is too large");
      return;
    }
    if (parser_->is_header_done()) {
      OnHead();
      return;
    }
    if (fed.ec == bhttp::error::need_more) break;
    if (fed.ec) {
      Fail(Failure::kBroken, fed.ec.message());
      return;
    }
  }
  // The stamped read waits for readability first, a syscall more per
  // answer than asio's speculative read: only where a stamp can come.
  if (upstream_->stamped) {
    ReadHeadStamped();
  } else {
    ReadMore(&Exchange::OnHeadRead);
  }
}

void Exchange::ReadHeadStamped() {
  upstream_->socket.async_wait(
      asio::socket_base::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->upstream_) {
          self->OnHeadRead(ec ? ec : asio::error::operation_aborted);
          return;
        }
        auto room = self->upstream_->buffer.prepare(kReadPiece);
        const ssize_t n =
            ReceiveStamped(self->upstream_->socket.native_handle(), room.data(),
                           room.size(), &self->head_received_unix_ns_);
        if (n > 0) {
          self->upstream_->buffer.commit(static_cast<size_t>(n));
          self->OnHeadRead({});
        } else if (n == 0) {
          self->OnHeadRead(asio::error::eof);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          self->ReadHeadStamped();
        } else {
          self->OnHeadRead(boost::system::error_code(
              errno, boost::system::system_category()));
        }
      });
}

void Exchange::ReadMore(void (Exchange::*then)(boost::system::error_code)) {
  upstream_->socket.async_read_some(
      upstream_->buffer.prepare(kReadPiece),
      [self = shared_from_this(), then](boost::system::error_code ec,
                                        size_t n) {
        if (self->upstream_) self->upstream_->buffer.commit(n);
        ((*self).*then)(ec);
      });
}

void Exchange::OnHeadRead(boost::system::error_code ec) {
  if (!ec) {
    ParseHead();
    return;
  }
  if (timed_out_) {
    Fail(Failure::kTimeout, "no answer in time");
  } else if (!parser_->got_some() && upstream_->buffer.size() == 0) {
    Fail(Failure::kLostBeforeAnswer, ec.message());
  } else {
    Fail(Failure::kBroken, ec.message());
  }
}

void Exchange::OnHead() {
  auto& msg = parser_->get();
  const int status = static_cast<int>(msg.result_int());
  if (status / 100 == 1) {
    if (status == 101 && upgrade_) {
      StartTunnel();
      return;
    }
    if (status == 101) {
      Fail(Failure::kBroken, "the app switched protocols unasked");
      return;
    }
    writer_->WriteInterim(status, ClientResponseHeaders(FieldsOf(msg.base())));
    ReadHead();  // the final answer follows
    return;
  }
  // The app's latency, for its concurrency limit: to the head, so a slow
  // client's reading does not count as the app's.
  proxy_.Answered(app_, sent_ns_, head_received_unix_ns_, priority_);
  if (writer_->Gone()) {  // the client left; the connection is mid-answer
    upstream_.reset();
    Release();
    return;
  }
  const http::Headers fields = FieldsOf(msg.base());
  const ResponseFraming framing = CheckResponseFraming(status, fields);
  if (!framing.problem.empty()) {
    Fail(Failure::kBroken, framing.problem);  // 502, connection closed
    return;
  }
  // A transfer coding (gzip, say) may not be sent to an HTTP/1.0 client
  // (RFC 9112 6.1), and corral does not decode one: the body would arrive
  // coded with nothing to say so.
  if (!framing.codings.empty() && http10_ && method_ != "HEAD" &&
      status != 204 && status != 304) {
    Fail(Failure::kBroken,
         absl::StrCat("the app's answer has a transfer "
                      "coding (",
                      framing.codings, ") an HTTP/1.0 client cannot take"));
    return;
  }
  http::Headers headers = ClientResponseHeaders(fields);
  std::optional<uint64_t> length;
  if (!framing.codings.empty()) {
    headers.emplace_back("Transfer-Encoding", framing.codings);
  } else if (!parser_->chunked() && parser_->content_length()) {
    length = *parser_->content_length();
  }
  if (parser_->is_done()) {
    head_sent_ = true;
    UpstreamDone();
    writer_->WriteHead(status, headers, length);
    writer_->Finish();
    return;
  }
  // What of the body came with the head is parsed before the head goes:
  // a small answer then leaves in one write, and a body that is broken
  // from its first bytes is still answered 502.
  PrepareBody();
  boost::system::error_code ec;
  const bool parsed = ParseBuffered(ec);
  if (ec) {
    Fail(Failure::kBroken, ec.message());
    return;
  }
  head_sent_ = true;
  writer_->WriteHead(status, headers, length);
  if (parsed) {
    OnBody(ec);
  } else {
    ReadBody();
  }
}

void Exchange::PrepareBody() {
  if (!piece_) piece_ = std::make_unique<char[]>(kBodyPiece);
  auto& body = parser_->get().body();
  body.data = piece_.get();
  body.size = kBodyPiece;
}

bool Exchange::ParseBuffered(boost::system::error_code& ec) {
  beast::flat_buffer& in = upstream_->buffer;
  if (in.size() == 0) return false;
  parser_->eager(true);
  while (in.size() > 0 && !parser_->is_done()) {
    const http::Fed fed =
        http::FeedParser(*parser_, in.data(), kMaxResponseHead);
    in.consume(fed.used);
    ec = fed.ec;
    if (fed.too_large) {
      ec = bhttp::error::header_limit;  // a chunk line or trailers too big
      break;
    }
    if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) {
      ec = {};
      break;
    }
    if (ec || fed.used == 0) break;
  }
  return ec || parser_->is_done() || parser_->get().body().size < kBodyPiece;
}

void Exchange::OnBody(boost::system::error_code ec) {
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) {
    Fail(timed_out_ ? Failure::kTimeout : Failure::kBroken, ec.message());
    return;
  }
  const size_t n = kBodyPiece - parser_->get().body().size;
  const std::string_view piece(piece_.get(), n);
  if (parser_->is_done()) {
    UpstreamDone();
    // The last piece and the end go together; nothing more is read.
    if (n > 0) writer_->WriteBody(piece, nullptr);
    writer_->Finish();
    return;
  }
  if (n == 0) {
    ReadBody();
    return;
  }
  // The next piece is read only once this one is in the client's socket: a
  // slow client slows the app's answer, not our memory.
  writer_->WriteBody(piece, [self = shared_from_this()] { self->ReadBody(); });
}

void Exchange::StartTunnel() {
  timer_.cancel();
  // The app's own fields, Connection and Upgrade among them: they are the
  // switch itself. What the app sent after its 101 follows it.
  const http::Headers fields = FieldsOf(parser_->get().base());
  std::string to_client;
  http::AppendResponseHead({.status = 101, .headers = &fields}, &to_client);
  to_client += beast::buffers_to_string(upstream_->buffer.data());
  auto tunnel = std::make_shared<Tunnel>(
      proxy_.io().get_executor(), std::move(upstream_->socket), websocket_,
      proxy_.settings().websocket_drain);
  upstream_.reset();
  std::optional<http::TakenConnection> taken =
      writer_->TakeConnection([weak = std::weak_ptr<Tunnel>(tunnel)] {
        if (auto t = weak.lock()) t->Drain();
      });
  if (!taken) {  // the client has gone: the app's socket closes with it
    Release();
    return;
  }
  head_sent_ = true;
  // The place on the app process is held while the tunnel lasts (the app's
  // stop waits for it, or drains it), off the caps on requests.
  tunnel_ = true;
  proxy_.TunnelOpened(tunnel, app_, priority_);
  tunnel->Start(std::move(taken->socket), std::move(to_client),
                std::move(taken->early),
                [self = shared_from_this(), ended = std::move(taken->ended)] {
                  self->Release();
                  ended();
                });
}

void Exchange::ReadBody() {
  PrepareBody();
  Arm();
  boost::system::error_code ec;
  if (ParseBuffered(ec)) {
    OnBody(ec);
    return;
  }
  ReadMore(&Exchange::OnBodyRead);
}

void Exchange::OnBodyRead(boost::system::error_code ec) {
  if (ec == asio::error::eof) {
    // The end of an answer read until close, or one cut short.
    ec = {};
    boost::system::error_code parsed;
    if (ParseBuffered(parsed) || parsed) {
      OnBody(parsed);
      return;
    }
    parser_->put_eof(ec);
    OnBody(ec);
    return;
  }
  if (ec) {
    OnBody(ec);
    return;
  }
  if (ParseBuffered(ec)) {
    OnBody(ec);
  } else {
    ReadMore(&Exchange::OnBodyRead);
  }
}

void Exchange::UpstreamDone() {
  timer_.cancel();
  if (parser_->keep_alive() && upstream_->buffer.size() == 0) {
    proxy_.pool().Put(std::move(upstream_));
  }
  upstream_.reset();
  Release();
}

void Exchange::Fail(Failure failure, std::string_view what) {
  timer_.cancel();
  upstream_.reset();
  const int app = app_;
  Release();
  if (MayRetry(failure, method_, retried_) && !writer_->Gone()) {
    retried_ = true;
    exclude_ = app;
    log::Info(
        "upstream connection failed before any answer; retrying on "
        "another app process",
        {{"app_slot", app}, {"error", std::string(what)}});
    proxy_.Route(shared_from_this());
    return;
  }
  if (head_sent_) {
    log::Warn(
        "app process broke off its answer; closing the client "
        "connection",
        {{"app_slot", app}, {"error", std::string(what)}});
    writer_->Abort();
    return;
  }
  if (failure == Failure::kTimeout) {
    log::Warn("app process did not answer within --upstream-timeout",
              {{"app_slot", app}});
    AnswerError(504, "the app did not answer in time");
    return;
  }
  log::Warn("app process failed the request; answered 502",
            {{"app_slot", app}, {"error", std::string(what)}});
  AnswerError(502, "the app failed to answer");
}

void Exchange::AnswerError(int status, std::string_view message,
                           std::string_view retry_after) {
  AnswerError(http::Response::Error(status, message), retry_after);
}

void Exchange::AnswerError(const http::Response& r,
                           std::string_view retry_after) {
  http::Headers headers = {{"Content-Type", r.content_type}};
  if (!retry_after.empty()) headers.emplace_back("Retry-After", retry_after);
  head_sent_ = true;
  writer_->WriteHead(r.status, headers, r.body.size());
  writer_->WriteBody(r.body,
                     [self = shared_from_this()] { self->writer_->Finish(); });
}

void Exchange::Release() {
  if (app_ < 0) return;
  const int app = app_;
  app_ = -1;
  proxy_.Released(app, priority_, tunnel_);
}

}  // namespace corral::proxy
