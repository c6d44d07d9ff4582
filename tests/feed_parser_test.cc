// One bound on every element a parser holds unparsed, and no exception
// out of it, for requests and responses.
#include "http/feed_parser.h"

#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace corral::http {
namespace {

namespace bhttp = boost::beast::http;

// Feeds `bytes` in pieces of `piece`, as reads would bring them, until the
// parser is done, fails or is past the bound.
template <class Parser>
Fed FeedAll(Parser& parser, const std::string& bytes, size_t bound,
            size_t piece = 4096) {
  boost::beast::flat_buffer buffer;
  size_t at = 0;
  Fed fed;
  for (;;) {
    if (at < bytes.size()) {
      size_t n = std::min(piece, bytes.size() - at);
      auto space = buffer.prepare(n);
      std::memcpy(space.data(), bytes.data() + at, n);
      buffer.commit(n);
      at += n;
    }
    fed = FeedParser(parser, buffer.data(), bound);
    buffer.consume(fed.used);
    if (fed.too_large || parser.is_done()) return fed;
    if (fed.ec && fed.ec != bhttp::error::need_more) return fed;
    if (fed.ec == bhttp::error::need_more && at == bytes.size()) return fed;
  }
}

std::string Chunked(const std::string& size_line, const std::string& trailer) {
  return "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
         size_line + "\r\nhello\r\n0\r\n" + trailer + "\r\n";
}

TEST(FeedParserTest, ATrailerFieldTooLongForBeastIsTooLargeNotAThrow) {
  bhttp::request_parser<bhttp::string_body> parser;
  // Past the bound, the feed stops before Beast ever sees the whole field.
  Fed fed = FeedAll(parser, Chunked("5", "X: " + std::string(70000, 'a') +
                                             "\r\n"),
                    kMaxRequestHead);
  EXPECT_TRUE(fed.too_large);
  // Even with no bound, a 64 KB field is refused, not thrown.
  bhttp::request_parser<bhttp::string_body> unbounded;
  fed = FeedAll(unbounded,
                Chunked("5", "X: " + std::string(70000, 'a') + "\r\n"),
                SIZE_MAX, 1 << 20);
  EXPECT_TRUE(fed.too_large);
}

TEST(FeedParserTest, LongChunkExtensionsAndTrailerSectionsAreTooLarge) {
  bhttp::request_parser<bhttp::string_body> ext;
  EXPECT_TRUE(FeedAll(ext, Chunked("5;" + std::string(20000, 'e'), ""),
                      kMaxRequestHead)
                  .too_large);
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "X-T" + std::to_string(i) + ": v\r\n";
  bhttp::request_parser<bhttp::string_body> trailers;
  EXPECT_TRUE(FeedAll(trailers, Chunked("5", many), kMaxRequestHead).too_large);
}

TEST(FeedParserTest, WithinTheBoundTheMessageParses) {
  bhttp::request_parser<bhttp::string_body> parser;
  Fed fed = FeedAll(parser, Chunked("5;name=value", "X-Sum: 1\r\n"),
                    kMaxRequestHead, 7);
  EXPECT_FALSE(fed.too_large);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello");
}

TEST(FeedParserTest, AHeaderSectionPastTheBoundIsTooLarge) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(1024);
  std::string head = "HTTP/1.1 200 OK\r\nX: " + std::string(4000, 'a');
  EXPECT_TRUE(FeedAll(parser, head, 1024).too_large);
}

}  // namespace
}  // namespace corral::http
