// Checks of a request's header that Beast's parser leaves to the server:
// message framing (RFC 9112 6) and Host (RFC 9110 7.2, RFC 9112 3.2).
#ifndef CORRAL_HTTP_HEADER_CHECK_H_
#define CORRAL_HTTP_HEADER_CHECK_H_

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <string>

namespace corral::http {

struct HeaderVerdict {
  int status = 0;  // 0: serve it; else refuse with this status and close
  std::string message;
  bool close_after = false;  // serve it, then close the connection
};

// Beast marks a body chunked only when "chunked" is the final coding, and
// otherwise reads a request as having no body at all: the bytes of an
// unknown coding would then be parsed as the next request (smuggling). So
// any Transfer-Encoding but a lone "chunked" is refused. Beast itself already
// refuses Content-Length beside chunked, differing Content-Lengths and bad
// chunk sizes.
HeaderVerdict CheckRequestHeader(
    const boost::beast::http::request_header<>& header);

}  // namespace corral::http

#endif  // CORRAL_HTTP_HEADER_CHECK_H_
