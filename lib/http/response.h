// What an app handler answers with.
#ifndef CORRAL_HTTP_RESPONSE_H_
#define CORRAL_HTTP_RESPONSE_H_

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::http {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body);
  // {"error": message, "status": status} - the shape every error takes.
  static Response Error(int status, std::string_view message);
};

// A handler answers exactly once, now or later (after a timer, say); the
// connection waits for it without blocking the event loop.
using Respond = std::function<void(Response)>;

using Headers = std::vector<std::pair<std::string, std::string>>;

// A client connection handed over after a 101 (ResponseWriter::
// TakeConnection). The request stays in flight, and the connection in its
// server's set, until `ended` runs; a drain of the server meanwhile runs
// the `on_drain` given for it.
struct TakenConnection {
  boost::asio::ip::tcp::socket socket;
  std::string early;  // what the client sent after its request
  std::function<void()> ended;
};

// An answer written in parts, for a body that is not whole yet (a proxied
// one): the head, then pieces of the body, each in the socket before the
// next is asked for. Calls after the client has gone do nothing; Gone()
// says so, and a pending `sent` callback is then never run.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // An interim answer (1xx other than 101); any number before WriteHead.
  virtual void WriteInterim(int status, const Headers& headers) = 0;
  // Status and headers as given (no Content-Type or Server added); framing
  // is the writer's: Content-Length when `content_length` is known, chunked
  // otherwise (HTTP/1.0: the body ends with the connection). The head waits
  // for the first piece of the body or the end if they come before the loop
  // turns, so a small answer goes out in one write.
  virtual void WriteHead(int status, const Headers& headers,
                         std::optional<uint64_t> content_length) = 0;
  // `sent` (may be empty) runs once the bytes are in the socket's buffer.
  virtual void WriteBody(std::string_view data, std::function<void()> sent) = 0;
  virtual void Finish() = 0;
  // The body cannot be completed: the connection is closed, which is how
  // the client learns it is short.
  virtual void Abort() = 0;
  virtual bool Gone() const = 0;

  // The app switched protocols (101): the client's connection leaves the
  // writer for the caller, who relays it from now on (proxy/tunnel.h).
  // Nothing when the client has gone or an answer was begun.
  virtual std::optional<TakenConnection> TakeConnection(
      std::function<void()> on_drain) = 0;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_RESPONSE_H_
