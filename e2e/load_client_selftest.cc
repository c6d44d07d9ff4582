// Checks the load client's accounting against a tiny in-process server whose
// behaviour per target is known, so every count can be asserted exactly.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr milliseconds kDeadline{60000};

// Server behaviour by target:
//   /fail   500
//   /reset  read the request, then close with RST, no answer
//   /eof    read the request, then close with FIN, no answer
//   /hang   never answer; wait for the client to give up
//   /v10    HTTP/1.0 200 without keep-alive
//   other   200
// Every 5th response carries Connection: close. A response body echoes
// "<method> <target> <body>"; x-echo-content-type echoes the Content-Type.
class TestSession : public std::enable_shared_from_this<TestSession> {
 public:
  TestSession(tcp::socket socket, uint64_t* responses)
      : socket_(std::move(socket)), responses_(responses) {}

  void Read() {
    request_ = {};
    bhttp::async_read(socket_, buffer_, request_,
                      [self = shared_from_this()](
                          beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return;  // the client closed
    const std::string target(request_.target());
    beast::error_code ignored;
    if (target == "/reset") {
      socket_.set_option(asio::socket_base::linger(true, 0), ignored);
      socket_.close(ignored);
      return;
    }
    if (target == "/eof") {
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      return;
    }
    if (target == "/hang") return Read();

    const bool v10 = target == "/v10";
    const uint64_t n = ++*responses_;
    response_ = {};
    response_.version(v10 ? 10 : 11);
    response_.result(target == "/fail" ? bhttp::status::internal_server_error
                                       : bhttp::status::ok);
    response_.set(bhttp::field::content_type, "text/plain");
    response_.set("X-Echo-Content-Type", request_[bhttp::field::content_type]);
    response_.body() = std::string(request_.method_string()) + " " + target +
                       " " + request_.body();
    response_.keep_alive(!v10 && n % 5 != 0 && request_.keep_alive());
    response_.prepare_payload();
    bhttp::async_write(
        socket_, response_,
        [self = shared_from_this(), keep = response_.keep_alive()](
            beast::error_code ec, size_t) { self->OnWrite(ec, keep); });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    if (!ec && keep_alive) return Read();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  uint64_t* responses_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> request_;
  bhttp::response<bhttp::string_body> response_;
};

class TestServer {
 public:
  TestServer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  // Open sessions are owned by their pending handlers and go with io_.
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      std::make_shared<TestSession>(std::move(socket), &responses_)->Read();
      Accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  uint64_t responses_ = 0;  // server thread only
  std::thread thread_;
};

// A known, deterministic mix of outcomes by request index.
std::string MixTarget(uint64_t n) {
  if (n % 10 == 3) return "/fail";
  if (n % 50 == 7) return "/reset";
  if (n % 50 == 17) return "/eof";
  if (n % 25 == 11) return "/v10";
  return "/ok";
}

struct Expected {
  uint64_t ok = 0, non_2xx = 0, reset_errors = 0;
  void Add(const std::string& target) {
    if (target == "/fail") {
      ++non_2xx;
    } else if (target == "/reset" || target == "/eof") {
      ++reset_errors;
    } else {
      ++ok;
    }
  }
};

RequestSpec Get(std::string target) {
  RequestSpec spec;
  spec.method = "GET";
  spec.target = std::move(target);
  return spec;
}

void ExpectInvariant(const LoadCounts& c) {
  EXPECT_EQ(c.sent,
            c.ok + c.non_2xx + c.reset_errors + c.timeouts + c.other_errors)
      << c.ToString();
  EXPECT_EQ(c.sent, c.completed()) << c.ToString();
}

uint16_t UnusedPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

TEST(LoadClientSelfTest, CountsAKnownMixExactly) {
  constexpr uint64_t kRequests = 1000;
  TestServer server;
  uint64_t next_calls = 0;  // client thread; read after Stop()
  LoadOptions options;
  options.port = server.port();
  options.connections = 20;
  options.next = [&](uint64_t n) {
    ++next_calls;
    if (n >= kRequests) return RequestSpec{};
    return Get(MixTarget(n));
  };
  LoadClient client(options);
  client.Start();
  ASSERT_TRUE(client.WaitForCompleted(kRequests, kDeadline))
      << client.Counts().ToString();
  client.Stop();

  Expected want;
  for (uint64_t n = 0; n < kRequests; ++n) want.Add(MixTarget(n));
  const LoadCounts c = client.Counts();
  EXPECT_EQ(c.sent, kRequests);
  EXPECT_EQ(c.ok, want.ok) << c.ToString();
  EXPECT_EQ(c.non_2xx, want.non_2xx) << c.ToString();
  EXPECT_EQ(c.reset_errors, want.reset_errors) << c.ToString();
  EXPECT_EQ(c.timeouts, 0u);
  EXPECT_EQ(c.other_errors, 0u);
  EXPECT_EQ(c.connect_errors, 0u);
  EXPECT_EQ(c.failed(), want.non_2xx + want.reset_errors);
  ExpectInvariant(c);
  // Indices 0..kRequests-1, then the one that ended the run; no more.
  EXPECT_EQ(next_calls, kRequests + 1);
}

TEST(LoadClientSelfTest, StopMidRunAccountsForEveryRequestSent) {
  TestServer server;
  std::vector<std::string> issued;  // client thread; read after Stop()
  LoadOptions options;
  options.port = server.port();
  options.connections = 200;
  options.next = [&](uint64_t n) {
    EXPECT_EQ(n, issued.size());  // gap-free global index
    issued.push_back(MixTarget(n));
    return Get(issued.back());
  };
  LoadClient client(options);
  client.Start();
  ASSERT_TRUE(client.WaitForCompleted(2000, kDeadline))
      << client.Counts().ToString();
  client.Stop();  // with requests in flight on most connections

  Expected want;
  for (const std::string& target : issued) want.Add(target);
  const LoadCounts c = client.Counts();
  EXPECT_EQ(c.sent, issued.size());
  EXPECT_EQ(c.ok, want.ok) << c.ToString();
  EXPECT_EQ(c.non_2xx, want.non_2xx) << c.ToString();
  EXPECT_EQ(c.reset_errors, want.reset_errors) << c.ToString();
  EXPECT_EQ(c.timeouts, 0u);
  EXPECT_EQ(c.other_errors, 0u);
  ExpectInvariant(c);

  // Nothing moves once stopped.
  EXPECT_EQ(client.Counts().sent, c.sent);
  client.Stop();
}

TEST(LoadClientSelfTest, CountsConnectErrorsAndKeepsRetrying) {
  LoadOptions options;
  options.port = UnusedPort();
  options.connections = 3;
  LoadClient client(options);
  client.Start();
  // More failures than connections: each one retried after its backoff.
  ASSERT_TRUE(
      PollUntil([&] { return client.Counts().connect_errors >= 9; }, kDeadline))
      << client.Counts().ToString();
  client.Stop();
  const LoadCounts c = client.Counts();
  EXPECT_EQ(c.sent, 0u);
  EXPECT_EQ(c.completed(), 0u);
  EXPECT_GE(c.failed(), 9u);
}

TEST(LoadClientSelfTest, CountsTimeoutsAndRecovers) {
  TestServer server;
  LoadOptions options;
  options.port = server.port();
  options.connections = 2;
  options.request_timeout = milliseconds(100);
  options.next = [](uint64_t n) {
    if (n >= 6) return RequestSpec{};
    return Get(n % 2 ? "/hang" : "/ok");
  };
  LoadClient client(options);
  client.Start();
  ASSERT_TRUE(client.WaitForCompleted(6, kDeadline))
      << client.Counts().ToString();
  client.Stop();
  const LoadCounts c = client.Counts();
  EXPECT_EQ(c.sent, 6u);
  EXPECT_EQ(c.ok, 3u) << c.ToString();
  EXPECT_EQ(c.timeouts, 3u) << c.ToString();
  ExpectInvariant(c);
}

TEST(LoadClientSelfTest, HandsEachResponseToOnResponse) {
  constexpr uint64_t kRequests = 12;
  TestServer server;
  std::vector<std::string> bodies;  // client thread; read after Stop()
  std::vector<std::map<std::string, std::string>> headers;
  LoadOptions options;
  options.port = server.port();
  options.connections = 1;  // keeps responses in request order
  options.next = [](uint64_t n) {
    if (n >= kRequests) return RequestSpec{};
    RequestSpec spec;
    spec.method = "POST";
    spec.target = "/orders";
    spec.body = "{\"n\":" + std::to_string(n) + "}";
    return spec;
  };
  options.on_response = [&](const RequestSpec& spec, int status,
                            const std::string& body,
                            const std::map<std::string, std::string>& h) {
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body, "POST /orders " + spec.body);
    bodies.push_back(body);
    headers.push_back(h);
  };
  LoadClient client(options);
  client.Start();
  ASSERT_TRUE(client.WaitForCompleted(kRequests, kDeadline))
      << client.Counts().ToString();
  client.Stop();

  EXPECT_EQ(client.Counts().ok, kRequests);
  ASSERT_EQ(bodies.size(), kRequests);
  for (uint64_t n = 0; n < kRequests; ++n) {
    EXPECT_EQ(bodies[n], "POST /orders {\"n\":" + std::to_string(n) + "}");
    EXPECT_EQ(headers[n]["x-echo-content-type"], "application/json");
    EXPECT_EQ(headers[n]["content-type"], "text/plain");
  }
}

}  // namespace
}  // namespace corral::e2e
