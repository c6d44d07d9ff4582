// One HTTP/1.1 connection: read a request, let the router's handler answer
// (now or later), write the response, repeat while keep-alive holds. Apps
// see only Request and Response, never Beast's types.
//
// Each request is finished inside the readiness event that brought it: read
// what the socket holds, parse it from the buffer, call the handler and, when
// it answers at once, send the response with a direct non-blocking send.
// Asio's speculative reads and writes would instead queue their completions
// behind every other connection's, and under overload a connection waiting
// on epoll would wait behind many passes of that queue. Readiness comes from
// the connection set's Poller, not Asio's socket operations (see poller.h).
// Timeouts are a sweep of last-activity times on the connection set's tick,
// not timers per request.
#ifndef CORRAL_HTTP_SESSION_H_
#define CORRAL_HTTP_SESSION_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "http/admission_gate.h"
#include "http/connection_set.h"
#include "http/poller.h"
#include "http/response_head.h"
#include "http/router.h"

namespace corral::http {

struct SessionLimits {
  uint64_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds keepalive_timeout{75000};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  // While draining, a connection idle this long since its last response is
  // closed; one that sends a request first is answered with Connection: close.
  // Long enough that a busy client is not mid-send when we close: that race
  // is lost by the client, and a drain never needs the connection back soon
  // (in a roll the replacement already serves).
  std::chrono::milliseconds drain_idle_grace{5000};
  // A request still unanswered this long after its first byte gets 504 (or,
  // with its answer begun, a closed connection); zero: no deadline.
  std::chrono::milliseconds request_deadline{0};
  std::string server_header = "corral";
  // Asked before each handler runs (a C++ app's worker); null: serve all.
  AdmissionGate* gate = nullptr;
};

// Told of every request, for metrics. Called on the session's thread.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void OnRequestStart(const Request& request) = 0;
  virtual void OnRequestEnd(const Request& request, std::string_view route,
                            int status, int64_t duration_ns) = 0;
  // The request passed SessionLimits::request_deadline; OnRequestEnd
  // follows with 504 when nothing of the answer was sent.
  virtual void OnRequestPastDeadline(const Request& request) { (void)request; }
};

class Session final : public std::enable_shared_from_this<Session>,
                      private Poller::Client {
 public:
  using Clock = std::chrono::steady_clock;

  // Owns fd, a connected non-blocking TCP socket.
  Session(int fd, const boost::asio::any_io_executor& executor,
          const Router& router, const SessionLimits& limits,
          SessionObserver* observer, ConnectionSet* connections);
  ~Session();

  // Watches the socket; the session keeps itself alive until it closes.
  void Start();
  // Finish the current request with Connection: close, or close the
  // connection if it stays idle past the drain grace.
  void Drain();
  // The timeouts: 408 for a request that does not arrive in time, close an
  // idle keep-alive connection, a draining idle one, a stuck write or linger.
  void Sweep(Clock::time_point now);
  // Whether Sweep(now) would act: cheap, for the connection set's scan.
  bool TimedOut(Clock::time_point now) const {
    return TimeoutAt(now) != Timeout::kNone;
  }

 private:
  enum class Phase {
    kIdle,       // between requests, no byte of the next one yet
    kReading,    // part of a request is here
    kHandling,   // the handler has the request
    kWriting,    // the rest of a response waits for room in the socket
    kLingering,  // FIN sent, reading until the peer closes
    kTunnel,     // the connection was handed over after a 101 (HandOver)
    kClosed,
  };
  enum class Parsed { kNeedMore, kDone, kFailed };
  // Which timeout has passed at a moment, if any: the rules, once.
  enum class Timeout { kNone, kIdle, kRequest, kWriteOrLinger, kDeadline };
  Timeout TimeoutAt(Clock::time_point now) const;
  void PastDeadline();
  using Parser =
      boost::beast::http::request_parser<boost::beast::http::string_body>;

  void OnReady(uint32_t events) override;
  // Serves whatever the socket and the buffer hold, then waits for more.
  void Serve();
  void PostServe();
  Parsed Parse();
  // Takes the method, target and header fields into request_ as soon as
  // the header section is complete, before any trailer can join them.
  // False when the target is refused (answered 400).
  bool TakeHead();
  // Reads what the socket holds into the buffer. False when it held nothing
  // (the next readiness event brings more), ended (peer_eof_) or failed.
  bool ReadSome();
  void Dispatch();
  void Answer(Response response);
  // 503 with Retry-After instead of the handler: the loop is behind.
  void Shed();
  void Send(const Response& response, bool keep_alive);
  // The Connection field an answer needs for `keep_alive` in this version.
  ResponseHead::Connection ConnectionField(bool keep_alive) const;
  // Sends out_ directly; when the socket is full, the rest goes on the
  // readiness event that says it has room.
  void Flush();
  void OnFlushed();
  void FailRequest(int status, std::string_view message);
  void CloseGracefully();
  void Linger();
  void CloseNow();
  bool BytesWaiting();
  // Counts the request's end once, whichever way it ends (a connection
  // closed under it counts 499, as nginx logs it).
  void EndRequest(int status);

  // The streamed answer (see ResponseWriter), in session_stream.cc.
  class Writer;
  std::shared_ptr<ResponseWriter> NewWriter(uint64_t seq);
  bool StreamGone(uint64_t seq) const {
    return seq != request_seq_ || phase_ == Phase::kClosed;
  }
  void StreamInterim(int status, const Headers& headers);
  void StreamHead(int status, const Headers& headers,
                  std::optional<uint64_t> content_length);
  void StreamBody(std::string_view data, std::function<void()> sent);
  void StreamFinish();
  // Posts the flush of what StreamHead holds, once.
  void FlushHeldLater();
  // The client's socket leaves for the caller (see TakeConnection).
  std::optional<TakenConnection> HandOver(std::function<void()> on_drain);

  int fd_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<Session> self_;  // while the socket is open
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  const Router& router_;
  const SessionLimits& limits_;
  SessionObserver* observer_;
  ConnectionSet* connections_;

  Phase phase_ = Phase::kIdle;
  bool draining_ = false;
  // Since the last readiness event no read has found the socket empty.
  bool readable_ = true;
  bool serve_posted_ = false;  // its turn comes after the other connections'
  bool serving_ = false;       // inside Serve(): answers return to it
  bool peer_eof_ = false;      // the client shut down its sending side
  bool header_checked_ = false;
  bool continue_sent_ = false;
  bool close_after_write_ = false;
  uint64_t request_seq_ = 0;  // guards against a handler answering twice
  Clock::time_point last_activity_;
  Clock::time_point request_started_;
  Clock::time_point deadline_;  // of an async write or the linger
  Request request_;
  std::string route_;
  unsigned version_ = 11;
  bool request_keep_alive_ = true;
  bool close_after_ = false;   // HTTP/1.0 with Transfer-Encoding
  bool request_open_ = false;  // started and not yet counted as ended
  // A streamed answer whose head is out and whose end is not.
  bool streaming_ = false;
  bool stream_chunked_ = false;
  bool stream_has_body_ = true;
  int stream_status_ = 0;
  std::function<void()> stream_sent_;
  // What the handler gave while the previous part was still being written.
  std::string stream_next_;
  bool stream_next_set_ = false;
  bool stream_finish_next_ = false;
  // The head (and what follows it in the same turn of the loop) waits in
  // out_ for the body or the end, so a small answer goes in one send();
  // a posted flush sends it if neither comes in this turn.
  bool stream_held_ = false;
  bool held_flush_posted_ = false;
  // After a hand-over: what a drain of this connection does instead.
  std::function<void()> on_tunnel_drain_;
  std::string out_;  // the response being sent
  size_t out_sent_ = 0;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_SESSION_H_
