// Hostile input, black box, over raw sockets: what a client gets, what the
// app received (e2e/apps/raw_app.py logs what it parsed and answers with
// bytes of its choosing), and whether the next request on the same
// connection, or another client's, is still served right. In proxy mode and
// in the C++ shape (corral-shop). Each case is one of the findings of an
// adversarial read of corral's HTTP/1.1 paths; none may crash a worker,
// desync a connection or cross from one client to another.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "harness.h"

namespace corral::e2e {
namespace {

namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;

struct Answer {
  int status = 0;
  std::map<std::string, std::string> fields;  // names lower-cased
  std::string body;
};

// One client connection, bytes in and answers out, each wait bounded.
class Conn {
 public:
  explicit Conn(uint16_t port) : fd_(ConnectLoopback(port)) {}
  ~Conn() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  // Sends all of `bytes`; false when the peer stopped taking them.
  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n =
          send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // The next answer (Content-Length, chunked or until close); nothing when
  // the connection ends first or the deadline passes.
  std::optional<Answer> Read(std::chrono::milliseconds deadline = 10s) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    parser.header_limit(1 << 20);
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      if (buffer_.size() > 0) {
        boost::beast::error_code ec;
        buffer_.consume(parser.put(buffer_.data(), ec));
        if (ec && ec != bhttp::error::need_more) return std::nullopt;
        if (parser.is_done()) break;
        if (!ec && buffer_.size() > 0) continue;
      }
      int got = Receive(end);
      if (got < 0) return std::nullopt;
      if (got == 0) {  // closed: the end of an answer read until close
        boost::beast::error_code ec;
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return std::nullopt;
        break;
      }
    }
    Answer a;
    a.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get()) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      a.fields[name] = std::string(f.value());
    }
    a.body = parser.get().body();
    return a;
  }

  // Whether the server closes the connection within the deadline (what
  // arrives meanwhile is discarded).
  bool ClosedByPeer(std::chrono::milliseconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      int got = Receive(end);
      if (got == 0) return true;
      if (got < 0) return errno == ECONNRESET;
      buffer_.consume(buffer_.size());
    }
  }

  // At least `n` bytes as they come, answer or not; shorter when the
  // connection ends or the deadline passes.
  std::string ReadRaw(size_t n, std::chrono::milliseconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (buffer_.size() < n && Receive(end) > 0) {
    }
    std::string out(static_cast<const char*>(buffer_.data().data()),
                    buffer_.size());
    buffer_.consume(buffer_.size());
    return out;
  }

  // Waits, reading nothing, until the bytes queued for us stop growing: the
  // server's send buffer is full and it waits for room. False if that does
  // not happen within the deadline.
  bool WaitUntilServerBlocks(std::chrono::milliseconds deadline = 20s) {
    int last = -1;
    int same = 0;  // samples in a row that found the queue unchanged
    return PollUntil(
        [&] {
          int queued = 0;
          ioctl(fd_, FIONREAD, &queued);
          same = queued > 0 && queued == last ? same + 1 : 0;
          last = queued;
          return same >= 20;
        },
        deadline);
  }

  // Closes without reading what the server is sending.
  void Abandon() {
    close(fd_);
    fd_ = -1;
  }

 private:
  // Bytes read into the buffer; 0 at EOF; -1 on error or at the deadline.
  int Receive(std::chrono::steady_clock::time_point end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    auto space = buffer_.prepare(65536);
    ssize_t n = recv(fd_, space.data(), space.size(), 0);
    if (n < 0) return -1;
    buffer_.commit(static_cast<size_t>(n));
    return static_cast<int>(n);
  }

  int fd_;
  boost::beast::flat_buffer buffer_;
};

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: shop.example\r\n" + extra +
         "\r\n";
}

// A chunked POST whose body is "hello", with a chunk-size line and a
// trailer section of the caller's.
std::string ChunkedPost(const std::string& target, const std::string& size_line,
                        const std::string& trailers) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: shop.example\r\nContent-Type: text/plain\r\n"
         "Transfer-Encoding: chunked\r\n\r\n" +
         size_line + "\r\nhello\r\n0\r\n" + trailers + "\r\n";
}

// The proxy in front of raw_app.py: one proxy worker and one app process,
// so every request shares one worker's connections and one pool.
class ProxyShape {
 public:
  ProxyShape()
      : log_(fs::temp_directory_path() /
             ("corral-raw-app-" + std::to_string(getpid()) + "-" +
              std::to_string(counter_++) + ".log")) {
    fs::remove(log_);
    p_ = CorralProcess::Start(
        {.args = {"--proxy", "--workers=1", "--proxy-workers=1",
                  "--drain-delay=0s"},
         .env = {{"RAW_APP_LOG", log_.string()}},
         .binary = CORRAL_BIN,
         .command = {"python3", std::string(CORRAL_E2E_APPS) + "/raw_app.py"}});
  }
  ~ProxyShape() { fs::remove(log_); }
  CorralProcess& p() { return *p_; }

  // What the app received, one request a line, in order.
  std::vector<nlohmann::json> Received() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

 private:
  static inline int counter_ = 0;
  fs::path log_;
  std::unique_ptr<CorralProcess> p_;
};

std::vector<std::pair<std::string, std::string>> HeadersOf(
    const nlohmann::json& request) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& h : request["headers"]) {
    std::string name = h[0].get<std::string>();
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    out.emplace_back(name, h[1].get<std::string>());
  }
  return out;
}

size_t CountField(const nlohmann::json& request, const std::string& name) {
  size_t n = 0;
  for (const auto& [k, v] : HeadersOf(request)) n += k == name;
  return n;
}

std::string FieldOf(const nlohmann::json& request, const std::string& name) {
  for (const auto& [k, v] : HeadersOf(request)) {
    if (k == name) return v;
  }
  return "";
}

// A kept-alive connection that must outlive whatever the test does to the
// same worker: it answers `target` with 200 before and after.
class Bystander {
 public:
  Bystander(uint16_t port, std::string target)
      : conn_(port), target_(std::move(target)) {}
  bool Served() {
    if (!conn_.Send(Get(target_))) return false;
    auto a = conn_.Read();
    return a && a->status == 200;
  }

 private:
  Conn conn_;
  std::string target_;
};

TEST(HostileInputTest, ProxyWorkerSurvivesClientsWhoLeaveLargeAnswersUnread) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  const auto pids = shape.p().ChildPids();
  Bystander bystander(shape.p().port(), "/echo");
  ASSERT_TRUE(bystander.Served());
  for (int i = 0; i < 3; ++i) {
    Conn c(shape.p().port());
    ASSERT_TRUE(c.Send(Get("/big?bytes=16000000")));
    // The worker's send waits for room (as it does for a client that went
    // away); the close then reaches it as an error on that pending send.
    ASSERT_TRUE(c.WaitUntilServerBlocks());
    c.Abandon();
  }
  // The worker that held both connections is the same one, still serving.
  EXPECT_TRUE(bystander.Served()) << shape.p().Logs();
  EXPECT_EQ(shape.p().ChildPids(), pids) << shape.p().Logs();
}

// Both shapes: the C++ app (corral-shop) and the proxy.
void ExpectTrailerFieldOf64KbRefused(CorralProcess& p,
                                     const std::string& target) {
  const auto pids = p.ChildPids();
  Bystander bystander(p.port(), target);
  ASSERT_TRUE(bystander.Served());
  Conn c(p.port());
  c.Send(
      ChunkedPost("/echo", "5", "X-Big: " + std::string(65536, 'a') + "\r\n"));
  auto a = c.Read();
  ASSERT_TRUE(a.has_value()) << p.Logs();
  EXPECT_EQ(a->status, 400);
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_TRUE(bystander.Served()) << p.Logs();
  EXPECT_EQ(p.ChildPids(), pids);
}

TEST(HostileInputTest, ChunkedTrailerFieldOf64KbIsRefusedInProxyMode) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  ExpectTrailerFieldOf64KbRefused(shape.p(), "/echo");
}

TEST(HostileInputTest, ChunkedTrailerFieldOf64KbIsRefusedByTheCppShape) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  ExpectTrailerFieldOf64KbRefused(*p, "/products/1");
}

// A chunk-size line or a trailer section past the bound is refused as soon
// as the bound is passed, not held until the request timeout.
void ExpectLongChunkMetadataRefused(CorralProcess& p) {
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "X-T" + std::to_string(i) + ": v\r\n";
  for (const std::string& request :
       {ChunkedPost("/echo", "5;" + std::string(1 << 20, 'e'), ""),
        ChunkedPost("/echo", "5", many)}) {
    Conn c(p.port());
    c.Send(request);  // may stop part way: the server has answered
    auto a = c.Read(5s);
    ASSERT_TRUE(a.has_value()) << p.Logs();
    EXPECT_EQ(a->status, 400);
  }
}

TEST(HostileInputTest, LongChunkExtensionsAndTrailersAreRefusedInProxyMode) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  ExpectLongChunkMetadataRefused(shape.p());
  EXPECT_TRUE(shape.Received().empty());
}

TEST(HostileInputTest, LongChunkExtensionsAndTrailersAreRefusedByTheCppShape) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  ExpectLongChunkMetadataRefused(*p);
}

TEST(HostileInputTest, TrailersNeverJoinTheHeaders) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  Conn c(shape.p().port());
  c.Send(ChunkedPost("/echo", "5",
                     "Host: evil.example\r\nAuthorization: Bearer stolen\r\n"
                     "Connection: upgrade\r\nUpgrade: websocket\r\n"));
  auto a = c.Read();
  ASSERT_TRUE(a.has_value()) << shape.p().Logs();
  EXPECT_EQ(a->status, 200);  // not 101: no tunnel from trailers
  auto received = shape.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(CountField(received[0], "host"), 1u);
  EXPECT_EQ(FieldOf(received[0], "host"), "shop.example");
  EXPECT_EQ(CountField(received[0], "authorization"), 0u);
  EXPECT_EQ(CountField(received[0], "upgrade"), 0u);
  EXPECT_EQ(received[0]["body"], "hello");
  // The same connection goes on.
  c.Send(Get("/echo"));
  a = c.Read();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200);
}

TEST(HostileInputTest, AnAnswerFramedTwoWaysNeverReachesAnotherClient) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  Conn attacker(shape.p().port());
  attacker.Send(Get("/raw/te-gzip-cl"));
  auto a = attacker.Read();
  ASSERT_TRUE(a.has_value()) << shape.p().Logs();
  EXPECT_EQ(a->status, 502);
  for (int i = 0; i < 3; ++i) {
    Conn other(shape.p().port());
    other.Send(Get("/echo?n=" + std::to_string(i)));
    auto b = other.Read();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->status, 200);
    EXPECT_NE(b->body, "secret");
    EXPECT_NE(b->body.find("/echo?n=" + std::to_string(i)), std::string::npos)
        << b->body;
  }
}

TEST(HostileInputTest, AppAnswersFramedBadlyGet502OrACloseNeverAStall) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  const auto pids = shape.p().ChildPids();
  Bystander bystander(shape.p().port(), "/echo");
  ASSERT_TRUE(bystander.Served());
  for (const char* name : {"chunked-chunked", "bad-chunk-size"}) {
    Conn c(shape.p().port());
    c.Send(Get(std::string("/raw/") + name));
    auto a = c.Read();
    ASSERT_TRUE(a.has_value()) << name;
    EXPECT_EQ(a->status, 502) << name << ": " << a->body;
  }
  // Past the bound after the body began: the client's answer is cut short
  // (the connection closes), and nothing else is touched.
  for (const char* name : {"big-trailer", "long-chunk-ext"}) {
    Conn c(shape.p().port());
    c.Send(Get(std::string("/raw/") + name));
    auto a = c.Read();
    EXPECT_TRUE(!a.has_value() || a->status == 502) << name;
    EXPECT_TRUE(c.ClosedByPeer()) << name;
  }
  EXPECT_TRUE(bystander.Served()) << shape.p().Logs();
  EXPECT_EQ(shape.p().ChildPids(), pids);
}

TEST(HostileInputTest, TransferCodingsOtherThanChunkedReachTheClient) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  Conn c(shape.p().port());
  c.Send(Get("/raw/gzip-chunked"));
  auto a = c.Read();
  ASSERT_TRUE(a.has_value()) << shape.p().Logs();
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->fields["transfer-encoding"], "gzip, chunked");
  EXPECT_EQ(a->body, "hello");
  EXPECT_EQ(a->fields.count("content-length"), 0u);
  // HTTP/1.0 has no transfer codings, and corral does not decode one: that
  // client gets 502 rather than a coded body with nothing to say so.
  Conn old(shape.p().port());
  old.Send("GET /raw/gzip-chunked HTTP/1.0\r\nHost: shop.example\r\n\r\n");
  a = old.Read();
  ASSERT_TRUE(a.has_value()) << shape.p().Logs();
  EXPECT_EQ(a->status, 502) << a->body;
  EXPECT_EQ(a->fields.count("transfer-encoding"), 0u);
}

TEST(HostileInputTest, HostIsDerivedFromAnAbsoluteTargetAndNeverHopByHop) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  Conn c(shape.p().port());
  c.Send(Get("http://other.example/echo?x=1"));
  auto a = c.Read();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200);
  c.Send(Get("/echo", "Connection: host\r\n"));
  a = c.Read();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200);
  auto received = shape.Received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["target"], "/echo?x=1");
  EXPECT_EQ(FieldOf(received[0], "host"), "other.example");
  EXPECT_EQ(CountField(received[0], "host"), 1u);
  EXPECT_EQ(FieldOf(received[1], "host"), "shop.example");
}

// Both shapes: a Host that is no host[:port], authority-form targets,
// bytes outside the URI grammar and a method that is not a token are
// refused with 400 before any app sees them.
void ExpectBadTargetsAndHostsRefused(CorralProcess& p) {
  for (const std::string& request :
       {std::string("GET /echo HTTP/1.1\r\nHost: a/b@evil.example\r\n\r\n"),
        std::string("CONNECT shop.example:443 HTTP/1.1\r\nHost: "
                    "shop.example:443\r\n\r\n"),
        Get("/a\"b"), Get("/caf\xC3\xA9"),
        std::string("G{T /echo HTTP/1.1\r\nHost: shop.example\r\n\r\n")}) {
    Conn c(p.port());
    c.Send(request);
    auto a = c.Read();
    ASSERT_TRUE(a.has_value()) << request;
    EXPECT_EQ(a->status, 400) << request;
  }
}

TEST(HostileInputTest, BadHostsAndTargetsAreRefusedInProxyMode) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  ExpectBadTargetsAndHostsRefused(shape.p());
  EXPECT_TRUE(shape.Received().empty());
}

TEST(HostileInputTest, BadHostsAndTargetsAreRefusedByTheCppShape) {
  auto p = CorralProcess::Start({.args = {"--workers=1"}});
  ASSERT_TRUE(p->WaitReady()) << p->Logs();
  ExpectBadTargetsAndHostsRefused(*p);
  // The absolute form is served as its path.
  Conn c(p->port());
  c.Send(Get("http://shop.example/products/1"));
  auto a = c.Read();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200);
}

TEST(HostileInputTest, OpenWebSocketsLeaveRoomForRequestsAndMoreUpgrades) {
  ProxyShape shape;
  ASSERT_TRUE(shape.p().WaitReady(30s)) << shape.p().Logs();
  const std::string upgrade =
      Get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\n");
  std::vector<std::unique_ptr<Conn>> sockets;
  for (int i = 0; i < 300; ++i) {
    auto c = std::make_unique<Conn>(shape.p().port());
    ASSERT_TRUE(c->Send(upgrade));
    auto a = c->Read();
    ASSERT_TRUE(a.has_value()) << "upgrade " << i;
    ASSERT_EQ(a->status, 101) << "upgrade " << i;
    sockets.push_back(std::move(c));
  }
  Conn plain(shape.p().port());
  plain.Send(Get("/echo"));
  auto a = plain.Read();
  ASSERT_TRUE(a.has_value()) << shape.p().Logs();
  EXPECT_EQ(a->status, 200);
  // A tunnel still carries bytes both ways.
  ASSERT_TRUE(sockets.back()->Send("ping"));
  EXPECT_EQ(sockets.back()->ReadRaw(4), "ping");
  EXPECT_EQ(shape.Received().size(), 301u);
}

}  // namespace
}  // namespace corral::e2e
