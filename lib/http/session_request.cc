// Session, part two: a request in - parsed under one bound (feed_parser.h),
// its head checked and taken, routed, the handler's exception policy, and
// a whole Response out.
#include <sys/socket.h>

#include <boost/beast/http/error.hpp>
#include <cerrno>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "http/feed_parser.h"
#include "http/header_check.h"
#include "http/http_date.h"
#include "http/percent.h"
#include "http/response_head.h"
#include "http/session.h"
#include "http/target.h"
#include "log/log.h"

namespace corral::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsParseError(const beast::error_code& ec) {
  return ec.category() ==
             bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

std::string TooLarge(uint64_t limit) {
  return absl::StrCat("request body is larger than ", limit, " bytes");
}

}  // namespace

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
    FailRequest(400,
                "the request target is not an origin-form path, '*' "
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
  request_.version = version_;
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
    auto writer = NewWriter(seq);
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
  if (limits_.gate != nullptr && limits_.gate->shedding() &&
      !limits_.gate->Admit(request_)) {
    Shed();
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

void Session::Shed() {
  // Cheap by design: no handler, one canned answer, and the connection kept
  // for the client's next try.
  static const Response kShed = [] {
    Response r =
        Response::Error(503, "the server is overloaded; try again in a moment");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }();
  EndRequest(kShed.status);
  Send(kShed, request_keep_alive_ && !draining_);
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
  head.date = ThreadDateCache().Now();
  head.content_type = response.content_type;
  if (has_body) head.content_length = response.body.size();
  head.connection = ConnectionField(keep_alive);
  AppendResponseHead(head, &out_);
  if (has_body && request_.method != "HEAD") out_.append(response.body);
  close_after_write_ = !keep_alive;
  Flush();
}

}  // namespace corral::http
