// Session, part one: the connection's state machine - readiness, reads,
// writes, timeouts, drain and close. Parsing and routing a request are in
// session_request.cc, the streamed answer in session_stream.cc: one class
// (Beast's session shape), three jobs, a file each.
#include "http/session.h"

#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <utility>

#include "http/connection_set.h"
#include "log/log.h"

namespace corral::http {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kLinger{2};
// One read's worth; also what a connection's buffer keeps between requests.
constexpr size_t kReadBytes = 4096;
// Requests one connection may finish in one readiness event before the
// others get their turn: a pipelining client cannot hog the loop.
constexpr int kMaxRequestsPerEvent = 16;

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

}  // namespace

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
      return limits_.request_deadline.count() > 0 &&
                     now - request_started_ >= limits_.request_deadline
                 ? Timeout::kDeadline
                 : Timeout::kNone;
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
    case Timeout::kDeadline:
      PastDeadline();
      return;
    case Timeout::kNone:
      return;
  }
}

// The handler's Respond, or the forwarded answer, comes too late to count:
// the session has moved on (request_seq_ and phase_ say so).
void Session::PastDeadline() {
  log::Warn("request past --request-deadline", {{"method", request_.method},
                                                {"path", request_.path},
                                                {"route", route_},
                                                {"answer_begun", streaming_}});
  if (observer_ != nullptr) observer_->OnRequestPastDeadline(request_);
  if (streaming_) {
    EndRequest(504);
    CloseNow();
    return;
  }
  request_keep_alive_ = false;
  Answer(Response::Error(504, "request past its deadline"));
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

bool Session::BytesWaiting() {
  int n = 0;
  return ::ioctl(fd_, FIONREAD, &n) == 0 && n > 0;
}

}  // namespace corral::http
