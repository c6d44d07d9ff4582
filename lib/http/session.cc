#include "http/session.h"

#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/status.hpp>
#include <cerrno>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "http/connection_set.h"
#include "http/feed_parser.h"
#include "http/header_check.h"
#include "http/http_date.h"
#include "http/percent.h"
#include "http/response_head.h"
#include "http/target.h"
#include "log/log.h"

namespace corral::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kLinger{2};
// One read's worth; also what a connection's buffer keeps between requests.
constexpr size_t kReadBytes = 4096;
// Requests one connection may finish in one readiness event before the
// others get their turn: a pipelining client cannot hog the loop.
constexpr int kMaxRequestsPerEvent = 16;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// One per worker thread; the worker's sessions all share it.
thread_local DateCache date_cache;

bool IsParseError(const beast::error_code& ec) {
  return ec.category() ==
             bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

// The peer's address, "10.1.2.3" or "::1"; empty when unknown.
std::string PeerAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw =
      addr.ss_family == AF_INET6
          ? static_cast<const void*>(
                &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr)
          : static_cast<const void*>(
                &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr);
  if (::inet_ntop(addr.ss_family, raw, text, sizeof(text)) == nullptr) {
    return {};
  }
  return text;
}

std::string TooLarge(uint64_t limit) {
  return absl::StrCat("request body is larger than ", limit, " bytes");
}

}  // namespace

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

Session::Session(int fd, const asio::any_io_executor& executor,
                 const Router& router, const SessionLimits& limits,
                 SessionObserver* observer, ConnectionSet* connections)
    : fd_(fd),
      executor_(executor),
      router_(router),
      limits_(limits),
      observer_(observer),
      connections_(connections),
      last_activity_(Clock::now()) {
  connections_->Add(this, executor_);
}

Session::~Session() {
  CloseNow();
  connections_->Remove(this);
}

void Session::Start() {
  if (!connections_->poller().Add(fd_, this)) {
    CloseNow();
    return;
  }
  self_ = shared_from_this();
  request_.remote_address = PeerAddress(fd_);
  Serve();
}

void Session::Drain() {
  if (phase_ == Phase::kTunnel) {
    if (on_tunnel_drain_) on_tunnel_drain_();
    return;
  }
  if (draining_ || phase_ == Phase::kClosed) return;
  // The sweep closes the connection once it has been idle for the grace;
  // a request that comes first is answered with Connection: close.
  draining_ = true;
}

Session::Timeout Session::TimeoutAt(Clock::time_point now) const {
  switch (phase_) {
    case Phase::kIdle:
      return now - last_activity_ >= (draining_ ? limits_.drain_idle_grace
                                                : limits_.keepalive_timeout)
                 ? Timeout::kIdle
                 : Timeout::kNone;
    case Phase::kReading:
      return now - request_started_ >= limits_.request_timeout
                 ? Timeout::kRequest
                 : Timeout::kNone;
    case Phase::kWriting:
    case Phase::kLingering:
      return now >= deadline_ ? Timeout::kWriteOrLinger : Timeout::kNone;
    case Phase::kHandling:
    case Phase::kTunnel:
    case Phase::kClosed:
      return Timeout::kNone;
  }
  return Timeout::kNone;
}

void Session::Sweep(Clock::time_point now) {
  const Timeout due = TimeoutAt(now);
  if (due == Timeout::kNone) return;
  auto self = shared_from_this();  // acting may end the session
  switch (due) {
    case Timeout::kIdle:
      // Bytes in the kernel's buffer mean a request crossed our timeout:
      // serve it (with Connection: close when draining).
      if (!BytesWaiting()) CloseGracefully();
      return;
    case Timeout::kRequest:
      FailRequest(408, "request not received in time");
      return;
    case Timeout::kWriteOrLinger:
      CloseNow();
      return;
    case Timeout::kNone:
      return;
  }
}

void Session::Serve() {
  serving_ = true;
  int served = 0;
  for (;;) {
    if (phase_ == Phase::kIdle && buffer_.size() > 0) {
      phase_ = Phase::kReading;
      request_started_ = Clock::now();
    }
    if (phase_ != Phase::kIdle && phase_ != Phase::kReading) break;
    Parsed parsed = buffer_.size() > 0 ? Parse() : Parsed::kNeedMore;
    if (parsed == Parsed::kFailed) break;
    if (parsed == Parsed::kDone) {
      Dispatch();
      if (++served >= kMaxRequestsPerEvent &&
          (phase_ == Phase::kIdle || phase_ == Phase::kReading)) {
        PostServe();
        break;
      }
      continue;
    }
    if (ReadSome()) continue;
    if (phase_ == Phase::kClosed) break;
    if (peer_eof_) {  // half a request, or none, and nothing more will come
      CloseNow();
      break;
    }
    break;  // the next readiness event brings more
  }
  serving_ = false;
}

void Session::PostServe() {
  // To the back of the queue: every other ready connection goes first.
  serve_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->serve_posted_ = false;
    if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kReading) {
      self->Serve();
    }
  });
}

bool Session::ReadSome() {
  if (!readable_ || peer_eof_ || phase_ == Phase::kClosed) return false;
  for (;;) {
    auto space = buffer_.prepare(kReadBytes);
    ssize_t n = ::recv(fd_, space.data(), space.size(), 0);
    if (n > 0) {
      buffer_.commit(static_cast<size_t>(n));
      // A short read emptied the socket: what comes next brings a new edge,
      // so there is no recv() that finds nothing (nginx does the same).
      if (static_cast<size_t>(n) < space.size()) readable_ = false;
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    readable_ = false;
    if (n == 0) {
      peer_eof_ = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      CloseNow();  // reset
    }
    return false;
  }
}

void Session::OnReady(uint32_t events) {
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable_ = true;
  switch (phase_) {
    case Phase::kIdle:
    case Phase::kReading:
      if (!serve_posted_) Serve();
      return;
    case Phase::kWriting:
      if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) Flush();
      return;
    case Phase::kLingering:
      Linger();
      return;
    case Phase::kHandling:
    case Phase::kTunnel:  // the connection is the tunnel's
    case Phase::kClosed:
      return;  // the request in hand finishes first; Serve() reads on
  }
}

Session::Parsed Session::Parse() {
  if (!parser_) {
    parser_.emplace();
    parser_->header_limit(kMaxRequestHead);
    parser_->body_limit(limits_.max_body_bytes);
    header_checked_ = false;
    close_after_ = false;
  }
  for (;;) {
    if (parser_->is_done()) return Parsed::kDone;
    if (buffer_.size() == 0) return Parsed::kNeedMore;
    const Fed fed = FeedParser(*parser_, buffer_.data(), kMaxRequestHead);
    const beast::error_code& ec = fed.ec;
    const size_t n = fed.used;
    buffer_.consume(n);
    if (fed.too_large) {
      if (parser_->is_header_done()) {
        FailRequest(400, absl::StrCat("a chunk-size line or the trailer "
                                      "section is larger than ",
                                      kMaxRequestHead, " bytes"));
      } else {
        FailRequest(431, "request headers too large");
      }
      return Parsed::kFailed;
    }
    if (ec == bhttp::error::need_more) return Parsed::kNeedMore;
    if (ec == bhttp::error::body_limit) {
      // Beast checks Content-Length against the limit with the header.
      FailRequest(413, TooLarge(limits_.max_body_bytes));
      return Parsed::kFailed;
    }
    if (ec) {
      if (IsParseError(ec)) {
        FailRequest(400, "malformed HTTP request: " + ec.message());
      } else {
        CloseNow();
      }
      return Parsed::kFailed;
    }
    if (parser_->is_header_done() && !header_checked_) {
      header_checked_ = true;
      const auto& header = parser_->get();
      HeaderVerdict verdict = CheckRequestHeader(header.base());
      if (verdict.status != 0) {
        FailRequest(verdict.status, verdict.message);
        return Parsed::kFailed;
      }
      close_after_ = verdict.close_after;
      if (auto len = parser_->content_length();
          len && *len > limits_.max_body_bytes) {
        FailRequest(413, TooLarge(limits_.max_body_bytes));
        return Parsed::kFailed;
      }
      if (!TakeHead()) return Parsed::kFailed;
      auto expect = header[bhttp::field::expect];
      if (!parser_->is_done() && buffer_.size() == 0 &&
          absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(absl::string_view(
                                     expect.data(), expect.size())),
                                 "100-continue")) {
        // 25 bytes into an empty send buffer; if they do not fit, the
        // client sends its body after its own short wait anyway.
        (void)::send(fd_, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
      }
    } else if (n == 0) {
      return Parsed::kNeedMore;
    }
  }
}

bool Session::TakeHead() {
  const auto& msg = parser_->get();
  std::optional<RequestTarget> parsed = ParseRequestTarget(
      std::string_view(msg.method_string().data(), msg.method_string().size()),
      std::string_view(msg.target().data(), msg.target().size()));
  if (!parsed) {
    FailRequest(400, "the request target is not an origin-form path, '*' "
                     "or an http URI");
    return false;
  }
  std::string_view target = parsed->origin;
  size_t q = target.find('?');
  std::optional<std::string> path =
      PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (!path.has_value() || (q != std::string_view::npos &&
                            !IsValidPercentEncoding(target.substr(q + 1)))) {
    FailRequest(400, "malformed percent-encoding in the request target");
    return false;
  }
  version_ = msg.version();
  request_keep_alive_ = msg.keep_alive() && !close_after_;
  // Assigned in place: the strings keep their capacity between requests.
  request_.method.assign(msg.method_string().data(),
                         msg.method_string().size());
  request_.target.assign(target);
  request_.path = std::move(*path);
  if (q != std::string_view::npos) {
    request_.query.assign(target.substr(q + 1));
  } else {
    request_.query.clear();
  }
  size_t fields = 0;
  for (const auto& field : msg) {
    if (fields == request_.headers.size()) request_.headers.emplace_back();
    auto& [name, value] = request_.headers[fields++];
    name.assign(field.name_string().data(), field.name_string().size());
    value.assign(field.value().data(), field.value().size());
  }
  request_.headers.resize(fields);
  if (parsed->authority) {
    // RFC 9112 3.2.2: an absolute-form target's authority is the Host.
    bool replaced = false;
    for (auto& [name, value] : request_.headers) {
      if (absl::EqualsIgnoreCase(name, "host")) {
        value = *parsed->authority;
        replaced = true;
      }
    }
    if (!replaced) request_.headers.emplace_back("Host", *parsed->authority);
  }
  return true;
}

void Session::Dispatch() {
  // The head was taken when it was complete (TakeHead): trailer fields,
  // which Beast adds to the same fields, never reach the app.
  request_.body = std::move(parser_->get().body());
  parser_.reset();
  phase_ = Phase::kHandling;

  RouteMatch match = router_.Match(request_);
  route_ = std::move(match.route);
  const uint64_t seq = ++request_seq_;
  request_open_ = true;
  if (observer_ != nullptr) observer_->OnRequestStart(request_);
  if (match.kind == RouteMatch::Kind::kForward) {
    auto writer = std::make_shared<Writer>(shared_from_this(), seq);
    try {
      (*router_.forward())(request_, std::move(writer));
    } catch (const std::exception& e) {
      log::Error("forwarding threw", {{"error", std::string(e.what())}});
      if (seq == request_seq_ && phase_ == Phase::kHandling && !streaming_) {
        Answer(Response::Error(500, "internal error"));
      }
    }
    return;
  }
  if (match.kind == RouteMatch::Kind::kNotFound) {
    Answer(Response::Error(404, "no route for " + request_.path));
    return;
  }
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    Response r = Response::Error(
        405, request_.method + " is not allowed on " + request_.path);
    r.headers.emplace_back("Allow", match.allow);
    Answer(std::move(r));
    return;
  }
  Respond respond = [self = shared_from_this(), seq](Response response) {
    if (seq != self->request_seq_ || self->phase_ != Phase::kHandling) return;
    self->Answer(std::move(response));
  };
  // An exception is the app's bug: say which route and what, answer 500,
  // and keep the connection and the worker.
  auto failed = [&](std::string_view what) {
    log::Error("handler threw; answered 500", {{"route", route_},
                                               {"method", request_.method},
                                               {"error", std::string(what)}});
    if (seq == request_seq_ && phase_ == Phase::kHandling) {
      Answer(Response::Error(500, "internal error"));
    }
  };
  try {
    (*match.handler)(request_, std::move(respond));
  } catch (const std::exception& e) {
    failed(e.what());
  } catch (...) {
    failed("an exception that is not a std::exception");
  }
}

void Session::Answer(Response response) {
  EndRequest(response.status);
  Send(response, request_keep_alive_ && !draining_);
}

void Session::EndRequest(int status) {
  if (!request_open_) return;
  request_open_ = false;
  if (observer_ != nullptr) {
    auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
        Clock::now() - request_started_);
    observer_->OnRequestEnd(request_, route_, status, duration.count());
  }
}

void Session::FailRequest(int status, std::string_view message) {
  // The parser's state is unknown after an error: answer, then close.
  phase_ = Phase::kHandling;
  request_.method = "_OTHER";
  if (parser_ && parser_->is_header_done()) {
    request_.method = std::string(parser_->get().method_string());
    version_ = parser_->get().version();
  }
  request_.target.clear();
  request_.path.clear();
  request_.query.clear();
  request_.headers.clear();
  request_.body.clear();
  request_.params.clear();
  parser_.reset();
  route_ = std::string(router_.unmatched_label());
  request_open_ = true;
  if (observer_ != nullptr) observer_->OnRequestStart(request_);
  request_keep_alive_ = false;
  Answer(Response::Error(status, message));
}

ResponseHead::Connection Session::ConnectionField(bool keep_alive) const {
  if (version_ == 10 && keep_alive) return ResponseHead::Connection::kKeepAlive;
  if (version_ != 10 && !keep_alive) return ResponseHead::Connection::kClose;
  return ResponseHead::Connection::kNone;
}

void Session::Send(const Response& response, bool keep_alive) {
  const int status = response.status;
  const bool has_body = !(status / 100 == 1 || status == 204 || status == 304);
  out_.clear();
  out_sent_ = 0;
  ResponseHead head;
  head.version = version_;
  head.status = status;
  head.headers = &response.headers;
  head.server = limits_.server_header;
  head.date = date_cache.Now();
  head.content_type = response.content_type;
  if (has_body) head.content_length = response.body.size();
  head.connection = ConnectionField(keep_alive);
  AppendResponseHead(head, &out_);
  if (has_body && request_.method != "HEAD") out_.append(response.body);
  close_after_write_ = !keep_alive;
  Flush();
}

void Session::Flush() {
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_,
                       MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The socket's buffer is full: the rest goes when epoll says so.
      if (phase_ != Phase::kWriting) {
        phase_ = Phase::kWriting;
        deadline_ = Clock::now() + limits_.write_timeout;
      }
      return;
    }
    CloseNow();  // reset or broken pipe: the client is gone
    return;
  }
  OnFlushed();
}

void Session::OnFlushed() {
  last_activity_ = Clock::now();
  if (streaming_) {  // a piece of a streamed body: ask for the next
    phase_ = Phase::kHandling;
    if (stream_next_set_) {  // it came while this one was being written
      stream_next_set_ = false;
      std::string next = std::move(stream_next_);
      StreamBody(next, std::move(stream_sent_));
    } else if (stream_finish_next_) {
      stream_finish_next_ = false;
      StreamFinish();
    } else if (auto sent = std::move(stream_sent_)) {
      sent();
    }
    return;
  }
  if (close_after_write_) {
    CloseGracefully();
    return;
  }
  phase_ = Phase::kIdle;
  // Inside Serve() the loop goes on; after an async answer or write, serve
  // whatever came meanwhile (epoll's edge for it may have passed unseen).
  if (!serving_) Serve();
}

void Session::CloseGracefully() {
  // Send FIN first and read until the peer closes, so unread request bytes
  // never turn our close into a reset that destroys the last response.
  phase_ = Phase::kLingering;
  if (::shutdown(fd_, SHUT_WR) != 0) {
    CloseNow();
    return;
  }
  deadline_ = Clock::now() + kLinger;
  Linger();
}

void Session::Linger() {
  // Posted or woken after a close, the descriptor may be another's by now.
  if (phase_ != Phase::kLingering) return;
  buffer_.consume(buffer_.size());
  char discard[4096];
  for (int i = 0; i < kMaxRequestsPerEvent; ++i) {
    ssize_t n = ::recv(fd_, discard, sizeof(discard), 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseNow();  // EOF (the usual end) or reset
    return;
  }
  asio::post(executor_, [self = shared_from_this()] { self->Linger(); });
}

void Session::CloseNow() {
  on_tunnel_drain_ = nullptr;
  if (phase_ == Phase::kClosed && fd_ < 0) return;
  // Closed first, let go of last: the streamed answer's callback may hold
  // the last reference to the handler's state, whose destructor (a writer
  // never finished) calls CloseNow() again. That call must find the
  // session closed, and no member half-assigned.
  const int status = streaming_ ? stream_status_ : 499;
  phase_ = Phase::kClosed;
  streaming_ = false;
  std::function<void()> sent = std::move(stream_sent_);
  stream_sent_ = nullptr;
  EndRequest(status);
  if (fd_ >= 0) {
    connections_->poller().Remove(fd_, this);
    ::close(fd_);
    fd_ = -1;
  }
  // Let go after the event in hand: the callers up the stack still use this.
  if (self_) asio::post(executor_, [self = std::move(self_)] {});
}

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
    transfer_encoding = absl::StrCat(
        absl::string_view(codings.data(), codings.size()),
        stream_chunked_ ? ", chunked" : "");
  } else if (stream_chunked_) {
    transfer_encoding = "chunked";
  }
  ResponseHead head;
  head.version = version_;
  head.status = status;
  head.headers = &headers;
  head.server = limits_.server_header;
  head.date = date_cache.Now();
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
  return TakenConnection{std::move(client), std::move(early),
                         std::move(ended)};
}

bool Session::BytesWaiting() {
  int n = 0;
  return ::ioctl(fd_, FIONREAD, &n) == 0 && n > 0;
}

}  // namespace corral::http
