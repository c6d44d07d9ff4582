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
  std::string target;  // raw, e.g. "/products?page=2"
  std::string path;    // "/products"
  std::string query;   // "page=2"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::map<std::string, std::string> params;  // from the route, e.g. {id}

  // Case-insensitive header lookup; empty when absent.
  std::string_view Header(std::string_view name) const;
  std::optional<std::string_view> Param(std::string_view name) const;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_REQUEST_H_
