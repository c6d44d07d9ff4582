// The one serialiser of a response's status line and header section, for
// every answer corral writes: a whole Response, a streamed head, an
// interim 1xx, a 101 before a tunnel.
#ifndef CORRAL_HTTP_RESPONSE_HEAD_H_
#define CORRAL_HTTP_RESPONSE_HEAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/response.h"

namespace corral::http {

struct ResponseHead {
  enum class Connection { kNone, kKeepAlive, kClose };

  unsigned version = 11;  // 10 or 11
  int status = 200;
  // Written as given, in order, but for Content-Length and
  // Transfer-Encoding: framing is the fields below.
  const Headers* headers = nullptr;
  // Each written unless empty; Server and Date only when `headers` has no
  // field of that name.
  std::string_view server;
  std::string_view date;
  std::string_view content_type;
  std::optional<uint64_t> content_length;
  std::string_view transfer_encoding;  // "chunked", "gzip, chunked"
  Connection connection = Connection::kNone;
};

// Appends the head, blank line included, to `out` (plain appends into a
// buffer that keeps its capacity: this runs once per answer).
void AppendResponseHead(const ResponseHead& head, std::string* out);

// The reason phrase for a status line; empty for a code Beast does not
// name (the phrase is optional, RFC 9112 section 4).
std::string_view ReasonPhrase(int status);

}  // namespace corral::http

#endif  // CORRAL_HTTP_RESPONSE_HEAD_H_
