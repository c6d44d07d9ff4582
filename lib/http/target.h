// The request target and Host (RFC 9112 3.2): which forms corral serves,
// which bytes a target may hold, and what a valid Host is. Pure logic, for
// the session's check of every request in both shapes.
#ifndef CORRAL_HTTP_TARGET_H_
#define CORRAL_HTTP_TARGET_H_

#include <optional>
#include <string>
#include <string_view>

namespace corral::http {

struct RequestTarget {
  // Origin form, as the app sees it: "/a/b?c" (or "*" for OPTIONS).
  std::string origin;
  // From an absolute-form target ("http://shop.example/x"): the authority
  // that replaces the request's Host (RFC 9112 3.2.2).
  std::optional<std::string> authority;
};

// The target of a request with `method`: origin form ("/..."), asterisk
// form ("*", OPTIONS only) or absolute form with an http or https URI.
// Nothing for authority form (CONNECT), a fragment, or a byte outside the
// URI grammar (controls, space, non-ASCII, '"', '<', '>', '\\', '`').
std::optional<RequestTarget> ParseRequestTarget(std::string_view method,
                                                std::string_view target);

// Whether `value` is a valid Host: uri-host [ ":" port ] (RFC 3986 3.2.2),
// with no user information; empty is valid (RFC 9112 3.2).
bool IsValidHost(std::string_view value);

}  // namespace corral::http

#endif  // CORRAL_HTTP_TARGET_H_
