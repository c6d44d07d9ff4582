#include "http/header_check.h"

#include "http/target.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace corral::http {

namespace bhttp = boost::beast::http;

HeaderVerdict CheckRequestHeader(const bhttp::request_header<>& header) {
  HeaderVerdict v;
  // One pass in arrival order: a request has a few fields, and two lookups
  // by name in Beast's tree cost more than reading them all.
  size_t hosts = 0;
  bool has_transfer_encoding = false;
  int codings = 0;
  bool only_chunked = true;
  for (const auto& field : header) {
    if (field.name() == bhttp::field::host) {
      ++hosts;
      const auto value = field.value();
      if (!IsValidHost(std::string_view(value.data(), value.size()))) {
        return {400, "the Host header is not a valid host[:port]", false};
      }
    } else if (field.name() == bhttp::field::transfer_encoding) {
      has_transfer_encoding = true;
      for (auto coding : bhttp::token_list{field.value()}) {
        ++codings;
        if (!boost::beast::iequals(coding, "chunked")) only_chunked = false;
      }
    }
  }
  if (hosts > 1) {
    return {400, "more than one Host header", false};
  }
  if (hosts == 0 && header.version() >= 11) {
    return {400, "an HTTP/1.1 request needs a Host header", false};
  }
  if (!has_transfer_encoding) return v;
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
