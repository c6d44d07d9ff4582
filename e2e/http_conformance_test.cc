// Request framing, Host, Date and percent-decoding, checked with raw bytes on
// a socket against the real binary (RFC 9110, RFC 9112).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "harness.h"

namespace corral::e2e {
namespace {

struct Exchange {
  std::string bytes;    // everything the server sent
  bool closed = false;  // the server closed (rather than our deadline passing)
  // The status of each response, in order.
  std::vector<int> Statuses() const {
    std::vector<int> out;
    for (size_t at = bytes.find("HTTP/1."); at != std::string::npos;
         at = bytes.find("HTTP/1.", at + 1)) {
      if (at + 12 <= bytes.size() && (at == 0 || bytes[at - 1] == '\n')) {
        out.push_back(std::atoi(bytes.substr(at + 9, 3).c_str()));
      }
    }
    return out;
  }
};

// Sends `bytes` and reads until the server closes or 5 s pass.
Exchange Send(uint16_t port, const std::string& bytes) {
  Exchange ex;
  int fd = ConnectLoopback(port);
  if (fd < 0) return ex;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!write(fd, bytes.data(), bytes.size());
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) ex.closed = true;
    if (n <= 0) break;
    ex.bytes.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return ex;
}

class HttpConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shop_ = CorralProcess::Start({.args = {"--workers=1"}}).release();
    ASSERT_TRUE(shop_->WaitReady()) << shop_->Logs();
  }
  static void TearDownTestSuite() {
    delete shop_;
    shop_ = nullptr;
  }
  static uint16_t port() { return shop_->port(); }
  static CorralProcess* shop_;
};
CorralProcess* HttpConformanceTest::shop_ = nullptr;

// The body of each request below is a whole second request: a server that
// misreads the framing answers it too (request smuggling).
const std::string kSmuggled = "GET /products/1 HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(HttpConformanceTest, UnknownTransferCodingsAreRefusedAndClosed) {
  for (const char* te : {"gzip", "identity", "chunked, identity",
                         "gzip, chunked", "chunked\r\nTransfer-Encoding: x"}) {
    Exchange ex =
        Send(port(), std::string("POST /checkout HTTP/1.1\r\nHost: x\r\n") +
                         "Transfer-Encoding: " + te + "\r\n\r\n" + kSmuggled);
    std::vector<int> statuses = ex.Statuses();
    ASSERT_EQ(statuses.size(), 1u) << te << ":\n" << ex.bytes;
    EXPECT_TRUE(statuses[0] == 400 || statuses[0] == 501) << te << ":\n"
                                                          << ex.bytes;
    EXPECT_TRUE(ex.closed) << te;
  }
}

TEST_F(HttpConformanceTest, ConflictingFramingStaysRefused) {
  const std::string body = "{}";
  for (std::string head :
       {"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
        "Content-Length: 2\r\nContent-Length: 3\r\n",
        "Content-Length: 2, 3\r\n",
        "Transfer-Encoding: identity\r\nContent-Length: 2\r\n"}) {
    Exchange ex = Send(port(), "POST /checkout HTTP/1.1\r\nHost: x\r\n" + head +
                                   "\r\n" + body + kSmuggled);
    std::vector<int> statuses = ex.Statuses();
    ASSERT_EQ(statuses.size(), 1u) << head << ex.bytes;
    EXPECT_GE(statuses[0], 400) << head << ex.bytes;
    EXPECT_TRUE(ex.closed) << head;
  }
  // A chunk size that is not hex.
  Exchange bad_chunk =
      Send(port(),
           "POST /checkout HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
           "chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" +
               kSmuggled);
  EXPECT_EQ(bad_chunk.Statuses(), std::vector<int>{400}) << bad_chunk.bytes;
  EXPECT_TRUE(bad_chunk.closed);
}

TEST_F(HttpConformanceTest, Http10WithTransferEncodingIsAnsweredThenClosed) {
  Exchange ex =
      Send(port(),
           "POST /checkout HTTP/1.0\r\nConnection: keep-alive\r\n"
           "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
           "GET /products/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::vector<int> statuses = ex.Statuses();
  ASSERT_EQ(statuses.size(), 1u) << ex.bytes;
  // Closed without a Connection header: an HTTP/1.0 client expects that.
  EXPECT_TRUE(ex.closed);
}

TEST_F(HttpConformanceTest, Http11NeedsExactlyOneHost) {
  Exchange none = Send(port(), "GET /products/1 HTTP/1.1\r\n\r\n" + kSmuggled);
  EXPECT_EQ(none.Statuses(), std::vector<int>{400}) << none.bytes;
  EXPECT_TRUE(none.closed);
  Exchange two =
      Send(port(), "GET /products/1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" +
                       kSmuggled);
  EXPECT_EQ(two.Statuses(), std::vector<int>{400}) << two.bytes;
  EXPECT_TRUE(two.closed);
  // HTTP/1.0 had no Host.
  Exchange old = Send(port(), "GET /products/1 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.Statuses(), std::vector<int>{200}) << old.bytes;
}

TEST_F(HttpConformanceTest, EveryResponseCarriesAnImfFixdate) {
  const std::regex date(
      "\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
      "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
      "[0-9]{2}:[0-9]{2}:[0-9]{2} GMT\r\n",
      std::regex::icase);
  for (std::string request :
       {"GET /products/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GARBAGE\x01 / HTTP/9\r\n\r\n"}) {
    Exchange ex = Send(port(), request);
    ASSERT_EQ(ex.Statuses().size(), 1u) << ex.bytes;
    EXPECT_TRUE(std::regex_search(ex.bytes, date)) << ex.bytes;
  }
}

// A GET of `target` exactly as written (no client re-encoding).
Exchange Get(uint16_t port, const std::string& target) {
  return Send(port, "GET " + target +
                        " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

nlohmann::json Body(const Exchange& ex) {
  size_t at = ex.bytes.find("\r\n\r\n");
  if (at == std::string::npos) return nullptr;
  return nlohmann::json::parse(ex.bytes.substr(at + 4), nullptr, false);
}

TEST_F(HttpConformanceTest, PathAndQueryArePercentDecoded) {
  Exchange one = Get(port(), "/products/%31");
  ASSERT_EQ(one.Statuses(), std::vector<int>{200}) << one.bytes;
  EXPECT_EQ(Body(one)["id"], 1);
  Exchange page = Get(port(), "/products?page=%32&per%5Fpage=%35");
  ASSERT_EQ(page.Statuses(), std::vector<int>{200}) << page.bytes;
  EXPECT_EQ(Body(page)["page"], 2);
  EXPECT_EQ(Body(page)["per_page"], 5);
  Exchange encoded_route = Get(port(), "/%70roducts/1");
  EXPECT_EQ(encoded_route.Statuses(), std::vector<int>{200})
      << encoded_route.bytes;
}

TEST_F(HttpConformanceTest, BadEscapesAre400) {
  for (const char* target :
       {"/products/%zz", "/products/1%3", "/products?page=%3",
        "/products?page=%g2", "/nowhere%"}) {
    Exchange ex = Send(
        port(), std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(ex.Statuses(), std::vector<int>{400}) << target << ex.bytes;
  }
}

}  // namespace
}  // namespace corral::e2e
