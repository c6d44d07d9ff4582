// The request header checks, on whatever header section Beast's request
// parser accepts from the bytes: the verdict must be one the session knows
// how to send, and a request it serves must be framed one way only.
#include "http/header_check.h"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.eager(false);  // the header section only, as the session checks it
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;

  const auto& header = parser.get().base();
  corral::http::HeaderVerdict verdict =
      corral::http::CheckRequestHeader(header);
  switch (verdict.status) {
    case 0:
      // Served: Content-Length and chunked never both (Beast refuses that
      // before the check), and at most one Host.
      if (parser.chunked() && parser.content_length()) __builtin_trap();
      if (header.count(bhttp::field::host) > 1) __builtin_trap();
      if (verdict.close_after && header.version() >= 11) __builtin_trap();
      break;
    case 400:
    case 501:
      if (verdict.message.empty()) __builtin_trap();
      break;
    default:
      __builtin_trap();
  }
  return 0;
}
