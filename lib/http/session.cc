#include "http/session.h"

#include <boost/asio/write.hpp>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "http/header_check.h"
#include "http/http_date.h"
#include "http/percent.h"

namespace corral::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kLinger{2};
constexpr size_t kIdleReadBytes = 8192;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// One per worker thread; the worker's sessions all share it.
thread_local DateCache date_cache;

bool IsParseError(const beast::error_code& ec) {
  return ec.category() ==
             bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

}  // namespace

void ConnectionSet::Remove(Session* s) {
  sessions_.erase(s);
  if (sessions_.empty() && on_empty_) on_empty_();
}

void ConnectionSet::DrainAll() {
  std::vector<Session*> copy(sessions_.begin(), sessions_.end());
  for (Session* s : copy) {
    if (sessions_.count(s)) s->Drain();
  }
}

Session::Session(asio::ip::tcp::socket socket, const Router& router,
                 const SessionLimits& limits, SessionObserver* observer,
                 ConnectionSet* connections)
    : stream_(std::move(socket)),
      idle_timer_(stream_.get_executor()),
      router_(router),
      limits_(limits),
      observer_(observer),
      connections_(connections),
      last_activity_(Clock::now()) {
  if (connections_ != nullptr) connections_->Add(this);
}

Session::~Session() {
  if (connections_ != nullptr) connections_->Remove(this);
}

void Session::Start() { WaitForRequest(); }

void Session::Drain() {
  if (draining_ || phase_ == Phase::kClosed) return;
  draining_ = true;
  if (phase_ == Phase::kIdle && idle_wait_pending_) {
    // Re-arm the idle timer with the (shorter) drain grace.
    idle_timer_.expires_at(last_activity_ + limits_.drain_idle_grace);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      self->OnIdleTimer(ec);
    });
  }
}

void Session::WaitForRequest() {
  phase_ = Phase::kIdle;
  stream_.expires_never();
  if (buffer_.size() > 0) {  // a pipelined request is already here
    ReadHeader();
    return;
  }
  idle_timer_.expires_at(draining_ ? last_activity_ + limits_.drain_idle_grace
                                   : Clock::now() + limits_.keepalive_timeout);
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    self->OnIdleTimer(ec);
  });
  idle_wait_pending_ = true;
  // A read, not a readiness wait: asio tries it at once and re-arms epoll
  // only when nothing is there, where async_wait costs an epoll_ctl each time.
  stream_.socket().async_read_some(
      buffer_.prepare(kIdleReadBytes),
      [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->idle_wait_pending_ = false;
        self->idle_timer_.cancel();
        if (self->phase_ != Phase::kIdle) return;
        if (ec) {
          self->CloseNow();  // EOF: the client closed its idle connection
          return;
        }
        self->buffer_.commit(n);
        self->ReadHeader();
      });
}

void Session::OnIdleTimer(beast::error_code ec) {
  if (ec == asio::error::operation_aborted || phase_ != Phase::kIdle ||
      !idle_wait_pending_) {
    return;
  }
  // Bytes already in the kernel's buffer mean a request crossed our timer:
  // the readiness wait completes next and the request is answered.
  beast::error_code avail_ec;
  if (stream_.socket().available(avail_ec) > 0 && !avail_ec) return;
  CloseGracefully();
}

void Session::ReadHeader() {
  phase_ = Phase::kReading;
  request_started_ = Clock::now();
  parser_.emplace();
  close_after_ = false;
  parser_->body_limit(limits_.max_body_bytes);
  // Our own timer, not the stream's: Beast closes the socket when its timer
  // fires, and a slow client should still be told 408.
  stream_.expires_never();
  request_timed_out_ = false;
  idle_timer_.expires_after(limits_.request_timeout);
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->phase_ != Phase::kReading) return;
    self->request_timed_out_ = true;
    beast::error_code cancel_ec;
    self->stream_.socket().cancel(cancel_ec);
  });
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) {
        self->OnHeader(ec);
      });
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) {
    if (request_timed_out_) {
      if (parser_->got_some() || buffer_.size() > 0) {
        FailRequest(408, "request not received in time");
      } else {
        CloseNow();
      }
    } else if (ec == bhttp::error::header_limit) {
      FailRequest(431, "request headers too large");
    } else if (ec == bhttp::error::body_limit) {
      // Beast checks Content-Length against the limit with the header.
      FailRequest(413, "request body is larger than " +
                           std::to_string(limits_.max_body_bytes) + " bytes");
    } else if (IsParseError(ec)) {
      FailRequest(400, "malformed HTTP request: " + ec.message());
    } else {
      CloseNow();  // EOF, reset: the client is gone
    }
    return;
  }
  const auto& header = parser_->get();
  HeaderVerdict verdict = CheckRequestHeader(header.base());
  if (verdict.status != 0) {
    FailRequest(verdict.status, verdict.message);
    return;
  }
  close_after_ = verdict.close_after;
  if (auto len = parser_->content_length();
      len && *len > limits_.max_body_bytes) {
    FailRequest(413, "request body is larger than " +
                         std::to_string(limits_.max_body_bytes) + " bytes");
    return;
  }
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  auto read_body = [self = shared_from_this()]() {
    bhttp::async_read(
        self->stream_, self->buffer_, *self->parser_,
        [self](beast::error_code ec, size_t) { self->OnBody(ec); });
  };
  auto expect = header[bhttp::field::expect];
  if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(absl::string_view(
                                 expect.data(), expect.size())),
                             "100-continue")) {
    asio::async_write(
        stream_, asio::buffer(kContinue.data(), kContinue.size()),
        [self = shared_from_this(), read_body](beast::error_code ec, size_t) {
          if (ec) {
            self->CloseNow();
            return;
          }
          read_body();
        });
    return;
  }
  read_body();
}

void Session::OnBody(beast::error_code ec) {
  if (!ec) {
    Dispatch();
  } else if (ec == bhttp::error::body_limit) {
    FailRequest(413, "request body is larger than " +
                         std::to_string(limits_.max_body_bytes) + " bytes");
  } else if (request_timed_out_) {
    FailRequest(408, "request body not received in time");
  } else if (IsParseError(ec)) {
    FailRequest(400, "malformed HTTP request body: " + ec.message());
  } else {
    CloseNow();
  }
}

void Session::Dispatch() {
  idle_timer_.cancel();
  auto& msg = parser_->get();
  std::string_view target(msg.target().data(), msg.target().size());
  size_t q = target.find('?');
  std::optional<std::string> path =
      PercentDecode(target.substr(0, q), /*plus_is_space=*/false);
  if (!path.has_value() || (q != std::string_view::npos &&
                            !IsValidPercentEncoding(target.substr(q + 1)))) {
    FailRequest(400, "malformed percent-encoding in the request target");
    return;
  }
  phase_ = Phase::kHandling;
  version_ = msg.version();
  request_keep_alive_ = msg.keep_alive() && !close_after_;
  request_ = Request();
  request_.method = std::string(msg.method_string());
  request_.target = std::string(target);
  request_.path = std::move(*path);
  if (q != std::string::npos) request_.query = request_.target.substr(q + 1);
  request_.headers.reserve(std::distance(msg.begin(), msg.end()));
  for (const auto& field : msg) {
    request_.headers.emplace_back(std::string(field.name_string()),
                                  std::string(field.value()));
  }
  request_.body = std::move(msg.body());
  parser_.reset();

  RouteMatch match = router_.Match(request_);
  route_ = std::move(match.route);
  const uint64_t seq = ++request_seq_;
  if (observer_ != nullptr) observer_->OnRequestStart(request_);
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
  try {
    (*match.handler)(request_, std::move(respond));
  } catch (const std::exception& e) {
    if (seq == request_seq_ && phase_ == Phase::kHandling) {
      Answer(Response::Error(500, "internal error"));
    }
  }
}

void Session::Answer(Response response) {
  if (observer_ != nullptr) {
    auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
        Clock::now() - request_started_);
    observer_->OnRequestEnd(request_, route_, response.status,
                            duration.count());
  }
  Send(std::move(response), request_keep_alive_ && !draining_);
}

void Session::FailRequest(int status, std::string_view message) {
  // The parser's state is unknown after an error: answer, then close.
  phase_ = Phase::kHandling;
  request_ = Request();
  if (parser_ && parser_->is_header_done()) {
    request_.method = std::string(parser_->get().method_string());
    version_ = parser_->get().version();
  } else {
    request_.method = "_OTHER";
  }
  route_ = std::string(kUnmatchedRoute);
  if (observer_ != nullptr) observer_->OnRequestStart(request_);
  request_keep_alive_ = false;
  Answer(Response::Error(status, message));
}

void Session::Send(Response response, bool keep_alive) {
  phase_ = Phase::kWriting;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(response.status), version_ == 10 ? 10 : 11);
  res->set(bhttp::field::server, limits_.server_header);
  res->set(bhttp::field::date, date_cache.Now());
  res->set(bhttp::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) res->insert(name, value);
  res->keep_alive(keep_alive);
  if (request_.method == "HEAD") {
    res->content_length(response.body.size());
  } else {
    res->body() = std::move(response.body);
    res->prepare_payload();
  }
  stream_.expires_after(limits_.write_timeout);
  bhttp::async_write(
      stream_, *res,
      [self = shared_from_this(), res, keep_alive](
          beast::error_code ec, size_t) { self->OnWritten(ec, keep_alive); });
}

void Session::OnWritten(beast::error_code ec, bool keep_alive) {
  last_activity_ = Clock::now();
  if (ec) {
    CloseNow();
  } else if (!keep_alive) {
    CloseGracefully();
  } else {
    WaitForRequest();
  }
}

void Session::CloseGracefully() {
  // Send FIN first and read until the peer closes, so unread request bytes
  // never turn our close into a reset that destroys the last response.
  phase_ = Phase::kClosed;
  idle_timer_.cancel();
  beast::error_code ec;
  stream_.socket().cancel(ec);  // the idle read, if one is pending
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    CloseNow();
    return;
  }
  stream_.expires_after(kLinger);
  Linger();
}

void Session::Linger() {
  stream_.async_read_some(
      asio::buffer(discard_),
      [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) {
          self->CloseNow();  // EOF (the usual end), timeout or reset
          return;
        }
        self->Linger();
      });
}

void Session::CloseNow() {
  phase_ = Phase::kClosed;
  idle_timer_.cancel();
  beast::error_code ec;
  stream_.socket().close(ec);
}

}  // namespace corral::http
