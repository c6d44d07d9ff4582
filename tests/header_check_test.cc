#include "http/header_check.h"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace corral::http {
namespace {

namespace bhttp = boost::beast::http;

// Parses a header block with Beast, as the session does.
HeaderVerdict Check(const std::string& head) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  EXPECT_FALSE(ec) << ec.message() << " for " << head;
  EXPECT_TRUE(parser.is_header_done()) << head;
  return CheckRequestHeader(parser.get().base());
}

TEST(HeaderCheckTest, PlainRequestsPass) {
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: a\r\n\r\n").status, 0);
  EXPECT_EQ(Check("GET / HTTP/1.0\r\n\r\n").status, 0);
  HeaderVerdict chunked =
      Check("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
  EXPECT_EQ(chunked.status, 0);
  EXPECT_FALSE(chunked.close_after);
}

TEST(HeaderCheckTest, HostIsRequiredOnceInHttp11) {
  EXPECT_EQ(Check("GET / HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(Check("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400);
  EXPECT_EQ(Check("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n").status, 400);
}

TEST(HeaderCheckTest, OnlyALoneFinalChunkedIsAccepted) {
  for (const char* te :
       {"gzip", "identity", "chunked, identity", "gzip, chunked"}) {
    HeaderVerdict v = Check(std::string("POST / HTTP/1.1\r\nHost: a\r\n") +
                            "Transfer-Encoding: " + te + "\r\n\r\n");
    EXPECT_EQ(v.status, 501) << te;
  }
  EXPECT_EQ(Check("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity"
                  "\r\nTransfer-Encoding: chunked\r\n\r\n")
                .status,
            501);
  EXPECT_EQ(Check("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n")
                .status,
            400);
}

TEST(HeaderCheckTest, Http10WithTransferEncodingIsServedThenClosed) {
  HeaderVerdict v =
      Check("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(v.status, 0);
  EXPECT_TRUE(v.close_after);
}

}  // namespace
}  // namespace corral::http
