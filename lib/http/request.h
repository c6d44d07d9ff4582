// What an app handler sees of a request: plain strings, no Beast types.
#ifndef CORRAL_HTTP_REQUEST_H_
#define CORRAL_HTTP_REQUEST_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::http {

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw, e.g. "/products/%31?page=%32"
  std::string path;    // percent-decoded, e.g. "/products/1"
  std::string query;   // raw, e.g. "page=%32": read values with QueryParam
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::map<std::string, std::string> params;  // from the route, e.g. {id}
  std::string remote_address;  // the client's IP address, e.g. "10.1.2.3"
  int version = 11;            // HTTP/1.1: 11, HTTP/1.0: 10

  // Case-insensitive header lookup; empty when absent.
  std::string_view Header(std::string_view name) const;
  std::optional<std::string_view> Param(std::string_view name) const;
  // The first value of a query parameter, percent-decoded with '+' as a
  // space (see PercentDecode); nullopt when absent or badly encoded.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // The path as sent: the target up to '?', or `path` when there is no
  // target (a request built by hand). The router splits this one, so an
  // escaped slash (%2F) stays inside its segment.
  std::string_view RawPath() const;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_REQUEST_H_
