// Feeding bytes to a Beast parser, for requests (Session) and the app's
// responses (the proxy) alike: one bound on what a parser holds unparsed,
// and no exception past the call.
//
// Beast consumes a body as it arrives, but leaves in the buffer any element
// it has not seen the end of: the header section, a chunk-size line with
// its extensions, the trailer section. It bounds only the first (its header
// limit); the others grow with what the peer sends, and a trailer field
// longer than Beast stores (64 KB) throws std::length_error from put().
#ifndef CORRAL_HTTP_FEED_PARSER_H_
#define CORRAL_HTTP_FEED_PARSER_H_

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <exception>

namespace corral::http {

// The bound on a request's header section, and on each chunk-size line and
// trailer section after it: Beast's own default header limit.
inline constexpr size_t kMaxRequestHead = 8 * 1024;

struct Fed {
  size_t used = 0;              // bytes the parser consumed
  boost::beast::error_code ec;  // the parser's verdict (need_more, ...)
  // An element past `max_unparsed`, or a field too long to store: refuse
  // the message (431 in a header section, 400 after it) and close.
  bool too_large = false;
};

// One put() of `data` into `parser`. After need_more, what the parser left
// unconsumed is the element it waits for the end of; past `max_unparsed`
// bytes that is too_large. Never throws.
template <bool isRequest>
Fed FeedParser(boost::beast::http::basic_parser<isRequest>& parser,
               boost::asio::const_buffer data, size_t max_unparsed) {
  Fed fed;
  try {
    fed.used = parser.put(data, fed.ec);
  } catch (const std::exception&) {
    // Beast's parser throws only where its fields cannot store a name or
    // value (std::length_error) or memory runs out: both a message too
    // large to take.
    fed.used = 0;
    fed.too_large = true;
    return fed;
  }
  if (fed.ec == boost::beast::http::error::need_more &&
      data.size() - fed.used > max_unparsed) {
    fed.too_large = true;
  }
  if (fed.ec == boost::beast::http::error::header_limit) fed.too_large = true;
  return fed;
}

}  // namespace corral::http

#endif  // CORRAL_HTTP_FEED_PARSER_H_
