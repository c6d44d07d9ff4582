#include "http/header_check.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace corral::http {

namespace bhttp = boost::beast::http;

HeaderVerdict CheckRequestHeader(const bhttp::request_header<>& header) {
  HeaderVerdict v;
  size_t hosts = header.count(bhttp::field::host);
  if (hosts > 1) {
    return {400, "more than one Host header", false};
  }
  if (hosts == 0 && header.version() >= 11) {
    return {400, "an HTTP/1.1 request needs a Host header", false};
  }
  auto [first, last] = header.equal_range(bhttp::field::transfer_encoding);
  if (first == last) return v;
  int codings = 0;
  bool only_chunked = true;
  for (auto it = first; it != last; ++it) {
    for (auto coding : bhttp::token_list{it->value()}) {
      ++codings;
      if (!boost::beast::iequals(coding, "chunked")) only_chunked = false;
    }
  }
  if (!only_chunked) {
    return {501, "transfer coding not implemented; only chunked is", false};
  }
  if (codings != 1) {
    return {400, "Transfer-Encoding must name chunked once", false};
  }
  // RFC 9112 6.1: HTTP/1.0 framing with Transfer-Encoding is suspect.
  if (header.version() < 11) v.close_after = true;
  return v;
}

}  // namespace corral::http
