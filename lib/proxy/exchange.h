// One request's way through proxy mode, from a place on an app process to
// the last byte of the answer: connect (or reuse a kept-alive connection),
// write the request, read the head, stream the body back piece by piece,
// or hand the connection to a tunnel after a 101; on a failure, retry once
// where that is safe, else 502/504. One request's life is one chain of
// callbacks, so it stays in one file (exchange.cc, ~440 lines), as nginx
// keeps ngx_http_upstream's; what is pure in it (the retry rule, the
// framing rules in forward.h) is apart and unit-tested.
#ifndef CORRAL_PROXY_EXCHANGE_H_
#define CORRAL_PROXY_EXCHANGE_H_

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.h"
#include "http/response.h"
#include "overload/priority.h"
#include "proxy/upstream_pool.h"

namespace corral::proxy {

class Proxy;

// How an attempt to reach the app failed.
enum class Failure {
  kConnect,           // no connection: the app never saw the request
  kLostBeforeAnswer,  // the connection closed before any byte of an answer
  kBroken,            // the answer began and broke off, or is malformed
  kTimeout,           // --upstream-timeout passed
};

// Whether a failed request may be sent again, to another app process: once
// only, and only when the app cannot have acted on it (never connected),
// or when acting twice is harmless (a GET or HEAD lost before any answer).
bool MayRetry(Failure failure, std::string_view method, bool retried_already);

// One request on its way through: routed, sent, answered. Holds its place
// on an app process until it lets go (in the destructor at the latest).
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(Proxy& proxy, const http::Request& request,
           std::shared_ptr<http::ResponseWriter> writer,
           overload::Priority priority);
  ~Exchange() { Release(); }

  void Start(int app);
  // From now on, an app process that holds this request past
  // --request-deadline is asked to be recycled.
  void WatchDeadline();
  bool upgrade() const { return upgrade_; }
  http::ResponseWriter& writer() { return *writer_; }
  // The app process it holds a place on, or -1.
  int app() const { return app_; }
  int exclude() const { return exclude_; }
  overload::Priority priority() const { return priority_; }
  // Answers with an error of our own (nothing of the app's answer went out).
  void AnswerError(int status, std::string_view message,
                   std::string_view retry_after = {});
  // The same with the error already made (a shed answer, made once).
  void AnswerError(const http::Response& error,
                   std::string_view retry_after = {});

 private:
  void Connect();
  void Write();
  void ReadHead();
  // Parses what the connection brought toward the head; reads more while
  // it is not complete.
  void ParseHead();
  void OnHead();
  // Reads what the app sent next into the connection's buffer, then
  // `then(ec)`.
  void ReadMore(void (Exchange::*then)(boost::system::error_code));
  void OnHeadRead(boost::system::error_code ec);
  // ReadMore for the head of a stamped connection, with the time the
  // kernel received it (stamped_read.h).
  void ReadHeadStamped();
  void OnBodyRead(boost::system::error_code ec);
  // The app answered 101: the connection becomes a tunnel to it.
  void StartTunnel();
  void ReadBody();
  // Points the parser's body at the piece buffer, empty.
  void PrepareBody();
  // Parses the answer's bytes already read into the piece; true when that
  // gave something to act on (bytes, the end, or an error in `ec`).
  bool ParseBuffered(boost::system::error_code& ec);
  // A piece of the body is in (or the read failed): passes it on.
  void OnBody(boost::system::error_code ec);
  // The app's answer is all here: its connection goes back to the pool and
  // its place on the app process is given up before the client has the
  // last bytes, so the client's next request finds the load as it is.
  void UpstreamDone();
  void Fail(Failure failure, std::string_view what);
  void Arm();
  void PastDeadline();
  void Release();

  Proxy& proxy_;
  std::shared_ptr<http::ResponseWriter> writer_;
  std::string method_;
  bool upgrade_;
  bool websocket_;  // an upgrade to WebSocket (close frames on a drain)
  bool http10_;     // the client's request was HTTP/1.0
  std::string head_;
  std::string body_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer deadline_;
  overload::Priority priority_;
  int64_t sent_ns_ = 0;  // CLOCK_MONOTONIC, when Start sent it
  // CLOCK_REALTIME, when the kernel received the head's last bytes read
  // (0: not stamped).
  int64_t head_received_unix_ns_ = 0;
  int app_ = -1;
  int exclude_ = -1;
  bool retried_ = false;
  bool reused_ = false;
  bool timed_out_ = false;
  bool head_sent_ = false;
  bool tunnel_ = false;  // its place on the app process is a tunnel's
  std::unique_ptr<Upstream> upstream_;
  std::optional<
      boost::beast::http::response_parser<boost::beast::http::buffer_body>>
      parser_;
  std::unique_ptr<char[]> piece_;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_EXCHANGE_H_
