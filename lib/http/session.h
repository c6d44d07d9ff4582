// One HTTP/1.1 connection: read a request, let the router's handler answer
// (now or later), write the response, repeat while keep-alive holds. The one
// class that touches Beast; apps see only Request and Response.
#ifndef CORRAL_HTTP_SESSION_H_
#define CORRAL_HTTP_SESSION_H_

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "http/router.h"

namespace corral::http {

struct SessionLimits {
  uint64_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds keepalive_timeout{75000};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  // While draining, a connection idle this long since its last response is
  // closed; one that sends a request first is answered with Connection: close.
  std::chrono::milliseconds drain_idle_grace{1000};
  std::string server_header = "corral";
};

// Told of every request, for metrics. Called on the session's thread.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void OnRequestStart(const Request& request) = 0;
  virtual void OnRequestEnd(const Request& request, std::string_view route,
                            int status, int64_t duration_ns) = 0;
};

class Session;

// The open connections of one server, so a drain can reach each of them.
class ConnectionSet {
 public:
  void Add(Session* s) { sessions_.insert(s); }
  void Remove(Session* s);
  void DrainAll();
  size_t size() const { return sessions_.size(); }
  // Called whenever the set becomes empty.
  void OnEmpty(std::function<void()> f) { on_empty_ = std::move(f); }

 private:
  std::unordered_set<Session*> sessions_;
  std::function<void()> on_empty_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, const Router& router,
          const SessionLimits& limits, SessionObserver* observer,
          ConnectionSet* connections);
  ~Session();

  void Start();
  // Finish the current request with Connection: close, or close the
  // connection if it stays idle past the drain grace.
  void Drain();

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kClosed };
  using Parser =
      boost::beast::http::request_parser<boost::beast::http::string_body>;

  void WaitForRequest();
  void OnIdleTimer(boost::beast::error_code ec);
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void Dispatch();
  void Answer(Response response);
  void Send(Response response, bool keep_alive);
  void OnWritten(boost::beast::error_code ec, bool keep_alive);
  void FailRequest(int status, std::string_view message);
  void CloseGracefully();
  void Linger();
  void CloseNow();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  boost::asio::steady_timer idle_timer_;
  const Router& router_;
  const SessionLimits& limits_;
  SessionObserver* observer_;
  ConnectionSet* connections_;

  Phase phase_ = Phase::kIdle;
  bool draining_ = false;
  bool idle_wait_pending_ = false;
  bool request_timed_out_ = false;
  uint64_t request_seq_ = 0;  // guards against a handler answering twice
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point request_started_;
  Request request_;
  std::string route_;
  unsigned version_ = 11;
  bool request_keep_alive_ = true;
  bool close_after_ = false;  // HTTP/1.0 with Transfer-Encoding
  std::array<char, 1024> discard_{};
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_SESSION_H_
