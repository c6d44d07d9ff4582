// `corral --listen=ADDR --proxy -- CMD`: corral's proxy workers hold the
// client connections and forward each request to the least busy copy of
// CMD, each listening on its own $PORT. The apps here are unmodified: the
// Node store, and a Python app that exits at once on SIGTERM.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "expect_load.h"
#include "harness.h"
#include "load_client.h"

namespace corral::e2e {
namespace {

namespace fs = std::filesystem;

const std::string kApp = std::string(CORRAL_E2E_APPS) + "/port_app.py";
const std::string kNodeStore =
    std::string(CORRAL_EXAMPLES) + "/node-store/server.js";

std::unique_ptr<CorralProcess> Proxy(std::vector<std::string> args,
                                     std::vector<std::string> command = {
                                         "python3", kApp}) {
  args.insert(args.begin(), "--proxy");
  args.push_back("--drain-delay=0s");
  return CorralProcess::Start({.args = std::move(args),
                               .binary = CORRAL_BIN,
                               .command = std::move(command)});
}

std::map<std::string, double> Scrape(const CorralProcess& p) {
  return ParseExposition(HttpGet(p.admin_port(), "/metrics").body);
}

int PidOf(const HttpResult& r) {
  return nlohmann::json::parse(r.body)["pid"].get<int>();
}

// Sends `request` on a connected socket and reads one response (which must
// carry Content-Length, or be the answer to a HEAD); returns the raw
// response, or "" when the connection closed first.
std::string Exchange(int fd, const std::string& request) {
  const bool head = request.rfind("HEAD ", 0) == 0;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) return "";
  std::string in;
  char buf[4096];
  for (;;) {
    size_t end = in.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t cl = in.find("Content-Length: ");
      size_t length = cl < end && !head ? std::stoul(in.substr(cl + 16)) : 0;
      if (in.size() >= end + 4 + length) return in;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    in.append(buf, static_cast<size_t>(n));
  }
}

// A file whose appearance releases the app's /block handlers.
class Gate {
 public:
  Gate()
      : path_(fs::temp_directory_path() /
              ("corral-gate-" + std::to_string(getpid()))) {
    fs::remove(path_);
  }
  ~Gate() { fs::remove(path_); }
  std::string path() const { return path_.string(); }
  std::string target() const { return "/block?file=" + path_.string(); }
  void Open() const { std::ofstream(path_) << "go"; }

 private:
  fs::path path_;
};

// Another program's listener on 127.0.0.1:port: it accepts every
// connection, closes it and counts it.
class ForeignListener {
 public:
  explicit ForeignListener(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listening_ =
        fd_ >= 0 &&
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        listen(fd_, 16) == 0;
    if (listening_) thread_ = std::thread([this] { AcceptAll(); });
  }
  ~ForeignListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  bool listening() const { return listening_; }
  int accepted() const { return accepted_; }

 private:
  void AcceptAll() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) != 1) continue;  // to look at stop_ again
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      close(c);
      ++accepted_;
    }
  }

  int fd_ = -1;
  bool listening_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST(ProxyTest, NodeStoreUnmodifiedAndItsRequestsCountedExactly) {
  auto p = Proxy(
      {"--workers=2", "--proxy-workers=2", "--routes=/products/{id},/checkout"},
      {"node", kNodeStore});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  constexpr uint64_t kRequests = 3000;
  LoadOptions o;
  o.port = p->port();
  o.connections = 50;
  o.next = [](uint64_t n) -> RequestSpec {
    return n < kRequests ? StoreMix(n) : RequestSpec{};
  };
  std::set<std::string> pids;
  CollectWorkerPids(o, &pids);
  LoadClient load(o);
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(kRequests, 60s))
      << load.Counts().ToString();
  StopAndExpectNoFailures(load);
  EXPECT_EQ(pids.size(), 2u) << "both Node processes served";
  auto m = Scrape(*p);
  EXPECT_EQ(Sum(m, "http_server_request_duration_seconds_count"), kRequests);
  EXPECT_EQ(m["http_server_request_duration_seconds_count{http_request_method="
              "\"GET\",http_response_status_code=\"200\",http_route=\"/"
              "products/{id}\"}"],
            kRequests / 4 * 3);
  EXPECT_EQ(m["http_server_request_duration_seconds_count{http_request_method="
              "\"POST\",http_response_status_code=\"200\",http_route=\"/"
              "checkout\"}"],
            kRequests / 4);
  EXPECT_EQ(Sum(m, "http_server_active_requests"), 0);
  EXPECT_EQ(Sum(m, "corral_app_active_requests"), 0);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, AppThatExitsAtOnceOnSigtermRollsTenTimesUnderLoad) {
  auto p = Proxy({"--workers=2", "--proxy-workers=2"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  LoadOptions o;
  o.port = p->port();
  o.connections = 100;
  o.next = [](uint64_t n) -> RequestSpec {
    if (n % 4 == 3) return {"POST", "/echo", R"({"cart":1})"};
    return {"GET", "/work?ms=" + std::to_string(n % 20), ""};
  };
  LoadClient load(o);
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(500, 30s)) << load.Counts().ToString();
  RollUnderLoad(*p, load, 10);
  if (HasFatalFailure()) return;
  StopAndExpectNoFailures(load);
  std::cout << "python app across 10 rolls: " << load.Counts().ToString()
            << "\n";
  for (const auto& line : p->LogsWithMsg("roll finished")) {
    EXPECT_EQ(line["result"], "success") << line.dump();
  }
  // Every replaced process was stopped only once nothing was in flight to
  // it, and died of the stop signal as this app does.
  for (const auto& line :
       p->LogsWithMsg("app process takes no new requests; it is stopped once "
                      "those in flight are answered")) {
    EXPECT_TRUE(line.contains("in_flight")) << line.dump();
  }
  EXPECT_TRUE(p->LogsWithMsg("worker retired by force").empty()) << p->Logs();
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, NoNewRequestReachesAProcessStuckInACpuBoundHandler) {
  auto p = Proxy({"--workers=2", "--proxy-workers=2"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  Gate gate;
  auto stuck = std::async(std::launch::async,
                          [&] { return HttpGet(p->port(), gate.target()); });
  ASSERT_TRUE(PollUntil(
      [&] { return Sum(Scrape(*p), "corral_app_active_requests") == 1; }, 10s));
  std::set<int> served_by;
  for (int i = 0; i < 20; ++i) {
    HttpResult r = HttpGet(p->port(), "/");
    ASSERT_EQ(r.status, 200) << r.error;
    served_by.insert(PidOf(r));
  }
  gate.Open();
  HttpResult blocked = stuck.get();
  ASSERT_EQ(blocked.status, 200) << blocked.error;
  EXPECT_EQ(served_by.size(), 1u);
  EXPECT_EQ(served_by.count(PidOf(blocked)), 0u)
      << "a request went to the busy process while the other was free";
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, PastTheCapAndTheQueueRequestsGet503WithRetryAfter) {
  // A long delay target: here the queue's length sheds, not its delay.
  auto p = Proxy({"--workers=1", "--proxy-workers=1", "--app-concurrency=1",
                  "--max-queue=1", "--queue-target=30s"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  Gate gate;
  auto first = std::async(std::launch::async,
                          [&] { return HttpGet(p->port(), gate.target()); });
  ASSERT_TRUE(PollUntil(
      [&] { return Sum(Scrape(*p), "corral_app_active_requests") == 1; }, 10s));
  // A POST (high by default) waits; a GET (normal) cannot displace it.
  auto queued = std::async(std::launch::async,
                           [&] { return HttpPost(p->port(), "/echo", "{}"); });
  ASSERT_TRUE(PollUntil(
      [&] { return Sum(Scrape(*p), "corral_proxy_queue_length") == 1; }, 10s));
  HttpResult shed = HttpGet(p->port(), "/");
  EXPECT_EQ(shed.status, 503);
  EXPECT_EQ(shed.headers["Retry-After"], "1");
  gate.Open();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(queued.get().status, 200);
  auto m = Scrape(*p);
  EXPECT_EQ(Sum(m, "corral_proxy_rejected_total"), 1);
  // The wait is the POST's, in its class's histogram.
  EXPECT_EQ(m["corral_proxy_queue_wait_seconds_count{class=\"high\"}"], 1);
  EXPECT_EQ(m["corral_proxy_queue_wait_seconds_count{class=\"normal\"}"], 0);
  EXPECT_EQ(m["corral_proxy_queue_wait_seconds_count{class=\"low\"}"], 0);
  EXPECT_EQ(Sum(m, "corral_proxy_queue_wait_seconds_count"), 1);
  EXPECT_EQ(Sum(m, "corral_proxy_queue_length"), 0);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, AppDyingMidRequestGives502AndKeepsTheClientConnection) {
  auto p = Proxy({"--workers=2", "--proxy-workers=1"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  std::string crash = Exchange(
      fd, "POST /crash HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(crash.substr(0, 12), "HTTP/1.1 502") << crash;
  EXPECT_EQ(crash.find("Connection: close"), std::string::npos) << crash;
  std::string next = Exchange(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(next.substr(0, 12), "HTTP/1.1 200") << next;
  close(fd);
  // The crashed process is replaced.
  EXPECT_TRUE(p->WaitForLog("worker died unexpectedly", 1, 10s)) << p->Logs();
  EXPECT_TRUE(p->WaitReady(30s));
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, GetLostBeforeAnyAnswerIsRetriedOnceButPostIsNot) {
  auto p = Proxy({"--workers=2", "--proxy-workers=1"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  const fs::path dir = fs::temp_directory_path() /
                       ("corral-hang-up-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string get = "/hang-up?file=" + (dir / "get").string();
  const std::string post = "/hang-up?file=" + (dir / "post").string();
  // The first try's connection closes with no answer; the GET is sent
  // again, and the second try answers.
  HttpResult r = HttpGet(p->port(), get);
  EXPECT_EQ(r.status, 200) << r.body << p->Logs();
  EXPECT_EQ(p->LogsWithMsg("upstream connection failed before any answer; "
                           "retrying on another app process")
                .size(),
            1u)
      << p->Logs();
  // A POST may have done its work before the connection closed: 502.
  int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  std::string answer = Exchange(fd, "POST " + post +
                                        " HTTP/1.1\r\nHost: a\r\n"
                                        "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 502") << answer;
  close(fd);
  EXPECT_TRUE(fs::exists(dir / "post")) << "the POST reached the app once";
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
  fs::remove_all(dir);
}

TEST(ProxyTest, ASlowClientsRequestNeverHoldsAnAppProcess) {
  // One app process that takes one request at a time: a request forwarded
  // before its body arrived would hold it, and the GET below would wait
  // in the queue and get 503.
  auto p = Proxy({"--workers=1", "--proxy-workers=1", "--app-concurrency=1",
                  "--queue-timeout=2s"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  int slow = ConnectLoopback(p->port());
  ASSERT_GE(slow, 0);
  std::string head =
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n"
      "Expect: 100-continue\r\n\r\n";
  ASSERT_GT(send(slow, head.data(), head.size(), MSG_NOSIGNAL), 0);
  // 100 Continue: the proxy worker has the head and waits for the body.
  std::string interim;
  char buf[256];
  while (interim.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = recv(slow, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0) << interim;
    interim.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(interim.substr(0, 12), "HTTP/1.1 100") << interim;
  ASSERT_GT(send(slow, "01234", 5, MSG_NOSIGNAL), 0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(HttpGet(p->port(), "/").status, 200) << p->Logs();
  }
  std::string answer = Exchange(slow, "56789");
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 200") << answer;
  EXPECT_NE(answer.find("\"body\": \"0123456789\""), std::string::npos)
      << answer;
  close(slow);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, SlowAppGives504AtTheUpstreamTimeout) {
  auto p = Proxy({"--workers=1", "--upstream-timeout=300ms"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  EXPECT_EQ(HttpGet(p->port(), "/work?ms=3000").status, 504);
  EXPECT_EQ(HttpGet(p->port(), "/work?ms=0").status, 200);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, HeadersCrossAsAProxyMustPassThem) {
  auto p = Proxy({"--workers=1"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  std::string r = Exchange(fd,
                           "POST /echo HTTP/1.1\r\nHost: shop\r\n"
                           "Connection: keep-alive, X-Secret\r\n"
                           "X-Secret: hop\r\nKeep-Alive: timeout=5\r\n"
                           "TE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\n"
                           "X-Kept: yes\r\nContent-Length: 5\r\n\r\nhello");
  close(fd);
  ASSERT_EQ(r.substr(0, 12), "HTTP/1.1 200") << r;
  auto j = nlohmann::json::parse(r.substr(r.find("\r\n\r\n") + 4));
  const auto& h = j["headers"];
  EXPECT_EQ(j["body"], "hello");
  EXPECT_EQ(h["x-kept"], "yes");
  EXPECT_EQ(h["host"], "shop");
  for (const char* gone : {"connection", "x-secret", "keep-alive", "te"}) {
    EXPECT_FALSE(h.contains(gone)) << gone << " reached the app: " << h.dump();
  }
  EXPECT_EQ(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(h["x-forwarded-proto"], "http");
  EXPECT_EQ(h["forwarded"], "for=127.0.0.1;proto=http");
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, LargeChunkedAnswerStreamsThrough) {
  auto p = Proxy({"--workers=1"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  HttpResult r = HttpGet(p->port(), "/stream?pieces=1024&bytes=16384");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body.size(), 1024u * 16384u);
  EXPECT_EQ(r.body.find_first_not_of('x'), std::string::npos);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, HeadAndEarlyHintsPassThrough) {
  auto p = Proxy({"--workers=1"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  // HEAD: the GET's length, no body; the next answer on the connection
  // starts right after the head.
  std::string head = Exchange(fd, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string get = Exchange(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 200") << head;
  EXPECT_EQ(get.substr(0, 12), "HTTP/1.1 200") << get;
  const size_t length = get.size() - get.find("\r\n\r\n") - 4;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(length)),
            std::string::npos)
      << head;
  EXPECT_EQ(head.find("{"), std::string::npos) << head;
  // 103 Early Hints, then the answer.
  std::string hints =
      Exchange(fd, "GET /early-hints HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(hints.substr(0, 26), "HTTP/1.1 103 Early Hints\r\n") << hints;
  EXPECT_NE(hints.find("Link: </a.css>; rel=preload"), std::string::npos);
  if (hints.find("HTTP/1.1 200") == std::string::npos) {
    std::string answer = Exchange(fd, "");  // the rest, not read yet
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 200") << answer;
  }
  close(fd);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, SigtermDrainsTheProxyWorkersBeforeStoppingTheApps) {
  auto p = Proxy({"--workers=2", "--proxy-workers=1"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  auto slow = std::async(std::launch::async,
                         [&] { return HttpGet(p->port(), "/work?ms=1500"); });
  ASSERT_TRUE(PollUntil(
      [&] { return Sum(Scrape(*p), "corral_app_active_requests") == 1; }, 10s));
  p->Signal(SIGTERM);
  EXPECT_EQ(slow.get().status, 200) << "the request in flight was finished";
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
  // The app processes were told to stop only after the proxy had exited.
  auto lines = p->LogLines();
  size_t proxy_exit = 0;
  size_t first_app_stop = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i]["msg"] == "worker drained, exiting") proxy_exit = i;
    if (first_app_stop == 0 &&
        lines[i]["msg"] ==
            "app process takes no new requests; it is stopped once those in "
            "flight are answered") {
      first_app_stop = i;
    }
  }
  EXPECT_GT(proxy_exit, 0u) << p->Logs();
  EXPECT_GT(first_app_stop, proxy_exit) << p->Logs();
}

// A masked client frame (RFC 6455 section 5.3), payload under 126 bytes.
std::string ClientFrame(unsigned char opcode, const std::string& payload) {
  const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  f += static_cast<char>(0x80 | payload.size());
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    f += static_cast<char>(payload[i] ^ mask[i % 4]);
  }
  return f;
}

// Reads until `n` bytes are here (or the connection ends).
std::string ReadBytes(int fd, size_t n) {
  std::string in;
  char buf[1024];
  while (in.size() < n) {
    ssize_t got = recv(fd, buf, std::min(sizeof(buf), n - in.size()), 0);
    if (got <= 0) break;
    in.append(buf, static_cast<size_t>(got));
  }
  return in;
}

TEST(ProxyTest, WebSocketIsTunnelledAndDrainedWithGoingAway) {
  auto p = Proxy({"--workers=1", "--websocket-drain=300ms"},
                 {"node", std::string(CORRAL_E2E_APPS) + "/ws_app.js"});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  int fd = ConnectLoopback(p->port());
  ASSERT_GE(fd, 0);
  const std::string upgrade =
      "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  ASSERT_GT(send(fd, upgrade.data(), upgrade.size(), MSG_NOSIGNAL), 0);
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    std::string more = ReadBytes(fd, 1);
    ASSERT_FALSE(more.empty()) << head;
    head += more;
  }
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 101") << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            std::string::npos)
      << head;
  std::string hello = ClientFrame(0x1, "hello");
  ASSERT_GT(send(fd, hello.data(), hello.size(), MSG_NOSIGNAL), 0);
  EXPECT_EQ(ReadBytes(fd, 7), std::string("\x81\x05hello", 7));
  // A long-lived request: in flight until it ends.
  EXPECT_EQ(Sum(Scrape(*p), "http_server_active_requests"), 1);
  p->Signal(SIGTERM);
  // Close code 1001 (going away) once --websocket-drain has passed.
  EXPECT_EQ(ReadBytes(fd, 4), std::string("\x88\x02\x03\xe9", 4));
  close(fd);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
  EXPECT_NE(p->Logs().find("app got close 1001"), std::string::npos)
      << p->Logs();
}

// The unix sockets in the master's own directory under `dir` (none when
// that directory is gone).
std::vector<fs::path> AppSockets(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& own : fs::directory_iterator(dir, ec)) {
    for (const auto& e : fs::directory_iterator(own.path(), ec)) {
      if (e.is_socket()) out.push_back(e.path());
    }
  }
  return out;
}

TEST(ProxyTest, AppsOnUnixSocketsServeRollAndLeaveNothingBehind) {
  const fs::path dir = fs::temp_directory_path() /
                       ("corral-app-sockets-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto p = Proxy(
      {"--workers=2", "--proxy-workers=1", "--app-socket-dir=" + dir.string()},
      {"node", kNodeStore});
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  std::vector<fs::path> before = AppSockets(dir);
  EXPECT_EQ(before.size(), 2u) << "one socket per app process";
  auto status = nlohmann::json::parse(HttpGet(p->admin_port(), "/status").body);
  ASSERT_EQ(status["command"].size(), 2u) << status.dump();
  for (const auto& w : status["command"]) {
    EXPECT_EQ(std::count(before.begin(), before.end(),
                         fs::path(w.value("socket", ""))),
              1)
        << w.dump();
  }

  LoadOptions o;
  o.port = p->port();
  o.connections = 20;
  o.next = StoreMix;
  std::set<std::string> pids;
  CollectWorkerPids(o, &pids);
  LoadClient load(o);
  load.Start();
  ASSERT_TRUE(load.WaitForCompleted(500, 30s)) << load.Counts().ToString();
  RollUnderLoad(*p, load, 2);
  if (HasFatalFailure()) return;
  StopAndExpectNoFailures(load);
  EXPECT_EQ(pids.size(), 6u) << "two processes, then two rolls' worth";

  // The replaced processes' sockets are gone; the new ones have new names.
  std::vector<fs::path> after;
  EXPECT_TRUE(PollUntil(
      [&] {
        after = AppSockets(dir);
        return after.size() == 2;
      },
      10s))
      << after.size();
  for (const auto& s : after) {
    EXPECT_EQ(std::count(before.begin(), before.end(), s), 0) << s;
  }
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
  EXPECT_TRUE(fs::is_empty(dir)) << "the master's socket directory is removed";
  fs::remove_all(dir);
}

TEST(ProxyTest, AnotherProgramsListenerOnAnAppsPortDoesNotMakeItReady) {
  // The copy binds its $PORT only once the gate opens. Meanwhile the test
  // takes that port, as another program can between corral's pick and the
  // copy's bind.
  Gate gate;
  auto p =
      CorralProcess::Start({.args = {"--proxy", "--workers=1",
                                     "--proxy-workers=1", "--drain-delay=0s"},
                            .env = {{"PORT_APP_BIND_AFTER", gate.path()}},
                            .binary = CORRAL_BIN,
                            .command = {"python3", kApp}});
  // The copy's /status entry; {} while there is none (or no admin yet).
  auto copy = [&] {
    auto status = nlohmann::json::parse(
        HttpGet(p->admin_port(), "/status").body, nullptr, false);
    if (status.is_discarded() || !status.contains("command") ||
        status["command"].empty()) {
      return nlohmann::json::object();
    }
    return status["command"][0];
  };
  auto ready = [&] { return copy().value("ready", false); };
  int port = 0;
  ASSERT_TRUE(PollUntil(
      [&] {
        port = copy().value("port", 0);
        return port > 0;
      },
      10s))
      << p->Logs();
  ForeignListener foreign(static_cast<uint16_t>(port));
  ASSERT_TRUE(foreign.listening()) << "port " << port;
  // corral probes the port on every tick until the copy is ready: a
  // second probe means the first one's answer did not make it ready.
  ASSERT_TRUE(
      PollUntil([&] { return foreign.accepted() >= 2 || ready(); }, 20s))
      << p->Logs();
  EXPECT_FALSE(ready()) << "another program's listener made the copy ready";
  EXPECT_EQ(p->ProbeStatus("/readyz"), 503);

  // Let it bind: the port is taken, so it exits, and the copy started in
  // its place gets another port and serves.
  gate.Open();
  ASSERT_TRUE(p->WaitReady(30s)) << p->Logs();
  HttpResult r = HttpGet(p->port(), "/");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_NE(copy().value("port", 0), port);
  p->Signal(SIGTERM);
  EXPECT_EQ(p->WaitExit(30s), 0) << p->Logs();
}

TEST(ProxyTest, AppSocketDirMustBeAnAbsolutePathThatFits) {
  for (const std::string& dir :
       {std::string("relative/dir"), "/" + std::string(80, 'd')}) {
    auto p =
        CorralProcess::Start({.args = {"--proxy", "--app-socket-dir=" + dir},
                              .pid_namespace = false,
                              .binary = CORRAL_BIN,
                              .command = {"python3", kApp}});
    EXPECT_EQ(p->WaitExit(10s), 2);
    EXPECT_NE(p->Logs().find("--app-socket-dir: "), std::string::npos)
        << p->Logs();
  }
}

TEST(ProxyTest, ProxyFlagsNeedProxyMode) {
  auto p = CorralProcess::Start({.args = {"--app-concurrency=1"},
                                 .pid_namespace = false,
                                 .binary = CORRAL_BIN,
                                 .command = {"python3", kApp}});
  EXPECT_EQ(p->WaitExit(10s), 2);
  EXPECT_NE(p->Logs().find("--app-concurrency needs --listen and --proxy"),
            std::string::npos)
      << p->Logs();
}

}  // namespace
}  // namespace corral::e2e
