#include "http/response_head.h"

#include <gtest/gtest.h>

namespace corral::http {
namespace {

TEST(ResponseHeadTest, AWholeAnswerHasServerDateTypeLengthInThatOrder) {
  Headers fields = {{"X-Id", "7"}};
  std::string out;
  AppendResponseHead({.status = 200,
                      .headers = &fields,
                      .server = "corral",
                      .date = "Sun, 06 Dec 2026 04:00:00 GMT",
                      .content_type = "application/json",
                      .content_length = 12},
                     &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nServer: corral\r\n"
            "Date: Sun, 06 Dec 2026 04:00:00 GMT\r\n"
            "Content-Type: application/json\r\nX-Id: 7\r\n"
            "Content-Length: 12\r\n\r\n");
}

TEST(ResponseHeadTest, TheHandlersServerAndDateWinAndFramingIsOurs) {
  Headers fields = {{"server", "node"},
                    {"Date", "then"},
                    {"Content-Length", "999"},
                    {"Transfer-Encoding", "gzip"}};
  std::string out;
  AppendResponseHead({.version = 11,
                      .status = 200,
                      .headers = &fields,
                      .server = "corral",
                      .date = "now",
                      .transfer_encoding = "gzip, chunked",
                      .connection = ResponseHead::Connection::kClose},
                     &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nserver: node\r\nDate: then\r\n"
            "Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n");
}

TEST(ResponseHeadTest, Http10KeepAliveAndUnnamedStatuses) {
  std::string out;
  AppendResponseHead({.version = 10,
                      .status = 299,
                      .content_length = 0,
                      .connection = ResponseHead::Connection::kKeepAlive},
                     &out);
  EXPECT_EQ(out,
            "HTTP/1.0 299 \r\nContent-Length: 0\r\n"
            "Connection: keep-alive\r\n\r\n");
  EXPECT_EQ(ReasonPhrase(103), "Early Hints");
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
}

}  // namespace
}  // namespace corral::http
