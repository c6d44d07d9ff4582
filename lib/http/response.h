// What an app handler answers with.
#ifndef CORRAL_HTTP_RESPONSE_H_
#define CORRAL_HTTP_RESPONSE_H_

#include <functional>
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

}  // namespace corral::http

#endif  // CORRAL_HTTP_RESPONSE_H_
