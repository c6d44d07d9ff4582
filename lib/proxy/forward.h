// What crosses the proxy, header by header: the request head sent to an app
// process and the answer's fields passed back to the client. Pure logic.
#ifndef CORRAL_PROXY_FORWARD_H_
#define CORRAL_PROXY_FORWARD_H_

#include <string>
#include <string_view>

#include "http/request.h"
#include "http/response.h"

namespace corral::proxy {

// Whether a field belongs to one connection only (RFC 9110 section 7.6.1):
// Connection, the fields it names, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding and Upgrade. `connection` is the Connection field's
// value, whose tokens name more, but never Host or Content-Length.
bool IsHopByHop(std::string_view name, std::string_view connection);

// The protocol a request asks to upgrade to (Upgrade, with "upgrade" in
// Connection); empty when it asks for none.
std::string_view UpgradeWanted(const http::Request& request);

// The HTTP/1.1 request head for the app: the method and target as sent;
// hop-by-hop fields dropped; Expect dropped (the body is here already) and
// Content-Length set to the body's; X-Forwarded-For and Forwarded extended
// with the client's address, X-Forwarded-Proto added unless a proxy in
// front already set it; Host added when an HTTP/1.0 client sent none; for
// an upgrade, Connection: Upgrade and the Upgrade field kept.
std::string UpstreamRequestHead(const http::Request& request);

// How the app's answer is framed, from its status and fields (RFC 9112
// 6.1, 6.3; a status outside 100..599 is no answer, RFC 9110 15).
struct ResponseFraming {
  // Not empty: the answer cannot be framed safely (Transfer-Encoding beside
  // Content-Length, chunked twice or not last, a coding that is not a
  // plain token, a status outside 100..599); it is refused with 502 and the
  // connection to the app closed, never reused.
  std::string problem;
  // The transfer codings besides a final chunked ("gzip"), which the
  // client must still be told of; the body is then read until the app
  // closes (without chunked) or de-chunked (with it).
  std::string codings;
};
ResponseFraming CheckResponseFraming(int status, const http::Headers& fields);

// The answer's fields for the client: hop-by-hop fields dropped, and the
// framing ones (Content-Length), which the client side sets itself.
http::Headers ClientResponseHeaders(const http::Headers& fields);

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_FORWARD_H_
