// The proxy's side of an app's answer: bytes from the app fed in pieces
// through FeedParser (the bound and no-throw rule Exchange reads with), the
// head judged by CheckResponseFraming, then the answer written back as the
// client gets it (the one response-head writer; Content-Length, or chunked
// after any other transfer codings). What corral would send must parse
// again to the same status and body: an answer corral takes is one it can
// frame.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "http/feed_parser.h"
#include "http/response_head.h"
#include "proxy/forward.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using corral::http::Headers;

constexpr size_t kMaxHead = 64 * 1024;

Headers FieldsOf(const bhttp::fields& fields) {
  Headers out;
  for (const auto& f : fields) {
    out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 64;  // how the reads split the bytes
  ++data;
  --size;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxHead);
  parser.body_limit(1 << 20);
  beast::flat_buffer in;
  size_t at = 0;
  corral::proxy::ResponseFraming framing;
  bool head_checked = false;
  for (;;) {
    const size_t n = std::min(piece, size - at);
    if (n > 0) {
      auto space = in.prepare(n);
      std::memcpy(space.data(), data + at, n);
      in.commit(n);
      at += n;
    }
    corral::http::Fed fed =
        corral::http::FeedParser(parser, in.data(), kMaxHead);
    in.consume(fed.used);
    if (fed.too_large) return 0;  // refused: 502 or a cut answer
    if (!head_checked && parser.is_header_done()) {
      head_checked = true;
      framing = corral::proxy::CheckResponseFraming(
          static_cast<int>(parser.get().result_int()),
          FieldsOf(parser.get().base()));
      if (!framing.problem.empty()) return 0;  // refused: 502
    }
    if (parser.is_done()) break;
    if (fed.ec && fed.ec != bhttp::error::need_more) return 0;
    // All bytes in and nothing more taken: the app closed the connection.
    if (at == size && (fed.ec == bhttp::error::need_more || fed.used == 0)) {
      boost::system::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return 0;  // cut short: a closed answer
      break;
    }
  }
  const int status = static_cast<int>(parser.get().result_int());
  if (status / 100 == 1 || status == 204 || status == 304) return 0;
  const std::string& body = parser.get().body();
  const Headers headers =
      corral::proxy::ClientResponseHeaders(FieldsOf(parser.get().base()));
  corral::http::ResponseHead head{.status = status, .headers = &headers};
  std::string transfer_encoding;
  if (framing.codings.empty()) {
    head.content_length = body.size();
  } else {
    transfer_encoding = framing.codings + ", chunked";
    head.transfer_encoding = transfer_encoding;
  }
  std::string out;
  corral::http::AppendResponseHead(head, &out);
  if (head.content_length) {
    out += body;
  } else {
    if (!body.empty())
      absl::StrAppend(&out, absl::Hex(body.size()), "\r\n", body, "\r\n");
    out += "0\r\n\r\n";
  }
  bhttp::response_parser<bhttp::string_body> client;
  client.header_limit(4 * kMaxHead);
  client.body_limit(1 << 21);
  client.eager(true);
  boost::system::error_code ec;
  client.put(boost::asio::buffer(out), ec);
  if (ec || !client.is_done()) __builtin_trap();
  if (static_cast<int>(client.get().result_int()) != status) __builtin_trap();
  if (client.get().body() != body) __builtin_trap();
  return 0;
}
