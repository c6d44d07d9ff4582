// Request smuggling, black box: framing a server must refuse (RFC 9112,
// RFC 9110), each sent over a raw TCP connection to the real corral-shop and
// followed on the same connection by a second, complete request. A server
// that reads the first request's framing differently from a proxy in front of
// it would answer that second request: the smuggled one. So whenever the
// first is refused, exactly one response must come back and the connection
// must be closed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace corral::e2e {
namespace {

// The request that must not be answered after a refused one.
constexpr char kSmuggled[] = "GET /products/2 HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr char kBasket[] = R"({"items":[{"id":1,"quantity":1}]})";  // 33 bytes

// What came back on one connection.
struct Exchange {
  std::vector<int> statuses;  // one per complete response, in order
  bool closed = false;        // the server closed (EOF or reset)
  std::string raw;
};

// Parses the complete responses at the start of `raw` (Content-Length framed;
// corral-shop never answers chunked).
std::vector<int> ParseResponses(const std::string& raw) {
  std::vector<int> statuses;
  size_t at = 0;
  while (true) {
    size_t head_end = raw.find("\r\n\r\n", at);
    if (head_end == std::string::npos) break;
    std::string head = raw.substr(at, head_end - at);
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) break;
    for (char& c : head) c = static_cast<char>(std::tolower(c));
    size_t length = 0;
    if (size_t cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
      length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    }
    if (raw.size() < head_end + 4 + length) break;
    statuses.push_back(std::atoi(head.c_str() + 9));
    at = head_end + 4 + length;
  }
  return statuses;
}

// Sends `bytes` at once (the two requests pipelined, as a proxy would forward
// them) and reads until the server closes, `want` responses have arrived
// (0: wait for the close only), or the deadline passes.
Exchange Send(uint16_t port, const std::string& bytes, size_t want,
              std::chrono::milliseconds deadline = 10s) {
  Exchange out;
  int fd = ConnectLoopback(port);
  if (fd < 0) return out;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n =
        send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  const auto end = std::chrono::steady_clock::now() + deadline;
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out.closed = true;  // EOF, or a reset: either way the server is done
      break;
    }
    out.raw.append(buf, static_cast<size_t>(n));
    if (want > 0 && ParseResponses(out.raw).size() >= want) break;
  }
  close(fd);
  out.statuses = ParseResponses(out.raw);
  return out;
}

enum class Expect {
  // Exactly one response, with one of `statuses`, then the connection closes:
  // the smuggled request is never answered.
  kOneResponseThenClose,
  // The RFC lets the server either refuse (400, then close) or accept the
  // framing; if it accepts, both requests are answered on one connection.
  kRefusedOrBothAnswered,
  // The positive control: both requests answered, 200 each.
  kBothAnswered,
};

struct FramingCase {
  const char* name;
  const char* rule;  // what the RFC requires, shown when the case fails
  std::string first;
  Expect expect;
  std::set<int> statuses;
};

std::ostream& operator<<(std::ostream& os, const FramingCase& c) {
  return os << c.name;
}

std::string Post(const std::string& headers, const std::string& body) {
  return "POST /checkout HTTP/1.1\r\nHost: x\r\n"
         "Content-Type: application/json\r\n" +
         headers + "\r\n" + body;
}

// The basket as one chunk, then the last chunk.
std::string ChunkedBasket() {
  return "21\r\n" + std::string(kBasket) + "\r\n0\r\n\r\n";
}

std::vector<FramingCase> Cases() {
  return {
      // RFC 9112 6.3 (4): TE present and chunked not final: 400, then close.
      {"TransferEncodingGzip",
       "RFC 9112 6.3(4) 400 (or 6.1 501 for an unknown coding) and close",
       Post("Transfer-Encoding: gzip\r\n", ChunkedBasket()),
       Expect::kOneResponseThenClose,
       {400, 501}},
      // RFC 9112 6.3 (4): "chunked, identity" ends in identity: 400, close.
      {"TransferEncodingChunkedThenIdentity",
       "RFC 9112 6.3(4) 400 (or 6.1 501 for an unknown coding) and close",
       Post("Transfer-Encoding: chunked, identity\r\n", ChunkedBasket()),
       Expect::kOneResponseThenClose,
       {400, 501}},
      // RFC 9112 6.3 (4): identity alone is not chunked: 400, then close.
      {"TransferEncodingIdentity",
       "RFC 9112 6.3(4) 400 (or 6.1 501 for an unknown coding) and close",
       Post("Transfer-Encoding: identity\r\n", kBasket),
       Expect::kOneResponseThenClose,
       {400, 501}},
      // RFC 9112 6.1: TE with CL may be refused or read by TE alone; either
      // way the server MUST close the connection after responding.
      {"TransferEncodingAndContentLength",
       "RFC 9112 6.1: reject, or frame by TE; close after responding",
       Post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            ChunkedBasket()),
       Expect::kOneResponseThenClose,
       {400, 200}},
      // RFC 9112 6.3 (5), RFC 9110 8.6: differing Content-Length values are
      // invalid framing: 400, then close.
      {"TwoDifferentContentLengths",
       "RFC 9112 6.3(5): 400 and close",
       Post("Content-Length: 33\r\nContent-Length: 5\r\n", kBasket),
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9110 8.6: Content-Length = 1*DIGIT, so "+33" is invalid;
      // RFC 9112 6.3 (5): 400, then close.
      {"ContentLengthWithSign",
       "RFC 9110 8.6 + RFC 9112 6.3(5): 400, close",
       Post("Content-Length: +33\r\n", kBasket),
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9110 8.6: a list of differing values ("33,5") is invalid;
      // RFC 9112 6.3 (5): 400, then close.
      {"ContentLengthList",
       "RFC 9110 8.6 + RFC 9112 6.3(5): 400, close",
       Post("Content-Length: 33,5\r\n", kBasket),
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9112 7.1: chunk-size = 1*HEXDIG; "zz" leaves the body length
      // unknown, so the rest of the connection cannot be read: 400, close.
      {"ChunkSizeNotHex",
       "RFC 9112 7.1: invalid chunk-size: 400 and close",
       Post("Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n"),
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9112 7.1: recipients MUST guard against chunk-size overflow; a
      // size past 2^64 is refused (400, or 413 past the body limit), close.
      {"ChunkSizeOverflow",
       "RFC 9112 7.1: overflow refused, then close",
       Post("Transfer-Encoding: chunked\r\n",
            "1" + std::string(16, '0') + "5\r\nhello\r\n0\r\n\r\n"),
       Expect::kOneResponseThenClose,
       {400, 413}},
      // RFC 9112 7.1: chunk data longer than its chunk-size is not followed
      // by CRLF: the framing is broken: 400, then close.
      {"ChunkDataLongerThanSize",
       "RFC 9112 7.1: 400 and close",
       Post("Transfer-Encoding: chunked\r\n", "5\r\nhelloXX\r\n0\r\n\r\n"),
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9112 3.2: an HTTP/1.1 request without Host MUST get 400 (corral
      // closes after every refused request).
      {"MissingHost",
       "RFC 9112 3.2: 400 (and corral closes)",
       "GET /products/1 HTTP/1.1\r\n\r\n",
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9112 3.2: more than one Host field line MUST get 400.
      {"TwoHosts",
       "RFC 9112 3.2: 400 (and corral closes)",
       "GET /products/1 HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9112 6.1: HTTP/1.0 with Transfer-Encoding: framing treated as
      // faulty; close after processing, even if keep-alive was asked.
      {"Http10WithTransferEncoding",
       "RFC 9112 6.1: framing faulty; close after processing",
       "POST /checkout HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
       "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
           ChunkedBasket(),
       Expect::kOneResponseThenClose,
       {400, 200}},
      // RFC 9112 5.1: whitespace between field name and colon MUST get 400.
      {"WhitespaceBeforeColon",
       "RFC 9112 5.1: 400 (and close: framing lost)",
       Post("Content-Length : 33\r\n", kBasket),
       Expect::kOneResponseThenClose,
       {400}},
      // RFC 9112 5.2: obs-fold MUST be refused with 400, or replaced by SP.
      {"ObsFold",
       "RFC 9112 5.2: 400, or unfold and serve",
       "GET /products/1 HTTP/1.1\r\nHost: x\r\nX-Note: one\r\n two\r\n\r\n",
       Expect::kRefusedOrBothAnswered,
       {400}},
      // RFC 9112 2.2: a recipient MAY accept a bare LF as line terminator; if
      // it does not, the request is invalid: 400, then close.
      {"BareLineFeeds",
       "RFC 9112 2.2: accept LF, or 400 and close",
       "GET /products/1 HTTP/1.1\nHost: x\n\n",
       Expect::kRefusedOrBothAnswered,
       {400}},
      // The positive control: a valid chunked POST, then the pipelined GET,
      // both answered on the same connection (RFC 9112 7.1, 9.3).
      {"ValidChunkedCheckoutThenPipelinedGet",
       "RFC 9112 7.1, 9.3: both answered",
       Post("Transfer-Encoding: chunked\r\n", ChunkedBasket()),
       Expect::kBothAnswered,
       {200}},
  };
}

class FramingTest : public ::testing::TestWithParam<FramingCase> {
 protected:
  static void SetUpTestSuite() {
    server_ = CorralProcess::Start({.args = {"--workers=1"}}).release();
    ASSERT_TRUE(server_->WaitReady()) << server_->Logs();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static CorralProcess* server_;
};
CorralProcess* FramingTest::server_ = nullptr;

TEST_P(FramingTest, SecondRequestIsAnsweredOnlyWhenTheFirstIsFramedRight) {
  const FramingCase& c = GetParam();
  ASSERT_NE(server_, nullptr);
  const std::string bytes = c.first + kSmuggled;
  switch (c.expect) {
    case Expect::kOneResponseThenClose: {
      Exchange e = Send(server_->port(), bytes, /*want=*/0);
      ASSERT_EQ(e.statuses.size(), 1u) << c.rule << "; got back:\n" << e.raw;
      EXPECT_TRUE(c.statuses.count(e.statuses[0]))
          << c.rule << "; status " << e.statuses[0] << "\n"
          << e.raw;
      EXPECT_TRUE(e.closed) << c.rule << "; the connection stayed open";
      break;
    }
    case Expect::kRefusedOrBothAnswered: {
      Exchange e = Send(server_->port(), bytes, /*want=*/2);
      ASSERT_FALSE(e.statuses.empty()) << c.rule << "; no response\n" << e.raw;
      if (e.statuses[0] == 400) {
        EXPECT_EQ(e.statuses.size(), 1u) << c.rule << "\n" << e.raw;
        EXPECT_TRUE(e.closed) << c.rule << "; open after a 400";
      } else {
        EXPECT_EQ(e.statuses, (std::vector<int>{200, 200}))
            << c.rule << "; accepted, so both must be answered\n"
            << e.raw;
      }
      break;
    }
    case Expect::kBothAnswered: {
      Exchange e = Send(server_->port(), bytes, /*want=*/2);
      EXPECT_EQ(e.statuses, (std::vector<int>{200, 200})) << c.rule << "\n"
                                                          << e.raw;
      EXPECT_FALSE(e.closed) << c.rule << "; closed a valid connection";
      break;
    }
  }
  // Whatever the case did, the server still serves.
  EXPECT_EQ(HttpGet(server_->port(), "/products/1").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Rfc9112, FramingTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<FramingCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace corral::e2e
