#include "proxy/proxy.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>
#include <limits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "http/feed_parser.h"
#include "http/response_head.h"
#include "log/log.h"
#include "options/options.h"
#include "pool/worker_env.h"
#include "proxy/forward.h"
#include "proxy/tunnel.h"
#include "region/slot_recorder.h"

namespace corral::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

// How long a kept-alive upstream connection may sit idle and still be
// reused: below the idle timeouts apps keep (Node 5 s, gunicorn 2 s), so
// the app is not closing it just as a request goes out.
constexpr std::chrono::milliseconds kIdleReuse{1500};
constexpr size_t kBodyPiece = 16 * 1024;
// The bound on the app's header section, and on each chunk-size line and
// trailer section after it (see http/feed_parser.h).
constexpr size_t kMaxResponseHead = 64 * 1024;
// One read from an app process's connection.
constexpr size_t kReadPiece = 16 * 1024;
// Requests one proxy worker has in flight to one app process at most,
// each on a connection of its own: at 28,000 client connections, one
// upstream connection per request would pass the descriptor limit. Past it
// a request waits for one of them; an app process is busy long before.
constexpr int kUpstreamsPerApp = 256;
// Tunnels (WebSockets) one proxy worker holds at most, two descriptors
// each; past it an upgrade is answered 503 at once.
constexpr size_t kMaxTunnels = 4096;
constexpr std::chrono::milliseconds kPumpPeriod{1};
constexpr std::chrono::milliseconds kSweepPeriod{100};

bool Idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

http::Headers FieldsOf(const bhttp::fields& fields) {
  http::Headers out;
  for (const auto& f : fields) {
    out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  return out;
}

}  // namespace

struct Upstream {
  explicit Upstream(asio::io_context& io) : socket(io) {}
  // TCP to 127.0.0.1, or a unix socket.
  asio::generic::stream_protocol::socket socket;
  beast::flat_buffer buffer;
  int app = -1;
  uint32_t port = 0;
  std::chrono::steady_clock::time_point idle_since;
};

// One request on its way through: routed, sent, answered. Holds its place
// on an app process until it lets go (in the destructor at the latest).
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  enum class Failure { kConnect, kLostBeforeAnswer, kBroken, kTimeout };

  Exchange(Proxy& proxy, const http::Request& request,
           std::shared_ptr<http::ResponseWriter> writer)
      : proxy_(proxy),
        writer_(std::move(writer)),
        method_(request.method),
        upgrade_(!UpgradeWanted(request).empty()),
        websocket_(absl::EqualsIgnoreCase(
            absl::StripAsciiWhitespace(absl::string_view(
                UpgradeWanted(request).data(), UpgradeWanted(request).size())),
            "websocket")),
        head_(UpstreamRequestHead(request)),
        body_(request.body),
        timer_(proxy.io_),
        queued_at_(Proxy::Clock::now()) {}
  ~Exchange() { Release(); }

  void Start(int app);
  bool upgrade() const { return upgrade_; }
  http::ResponseWriter& writer() { return *writer_; }
  Proxy::Clock::time_point queued_at() const { return queued_at_; }
  // The app process it holds a place on, or -1.
  int app() const { return app_; }
  int exclude() const { return exclude_; }
  // Answers with an error of our own (nothing of the app's answer went out).
  void AnswerError(int status, std::string_view message,
                   std::string_view retry_after = {});

 private:
  void Connect();
  void Write();
  void ReadHead();
  // Parses what the connection brought toward the head; reads more while
  // it is not complete.
  void ParseHead();
  void OnHead();
  // Reads what the app sent next into the connection's buffer, then
  // `then(ec)`.
  void ReadMore(void (Exchange::*then)(boost::system::error_code));
  void OnHeadRead(boost::system::error_code ec);
  void OnBodyRead(boost::system::error_code ec);
  // The app answered 101: the connection becomes a tunnel to it.
  void StartTunnel();
  void ReadBody();
  // Points the parser's body at the piece buffer, empty.
  void PrepareBody();
  // Parses the answer's bytes already read into the piece; true when that
  // gave something to act on (bytes, the end, or an error in `ec`).
  bool ParseBuffered(boost::system::error_code& ec);
  // A piece of the body is in (or the read failed): passes it on.
  void OnBody(boost::system::error_code ec);
  // The app's answer is all here: its connection goes back to the pool and
  // its place on the app process is given up before the client has the
  // last bytes, so the client's next request finds the load as it is.
  void UpstreamDone();
  void Fail(Failure failure, std::string_view what);
  void Arm();
  void Release();

  Proxy& proxy_;
  std::shared_ptr<http::ResponseWriter> writer_;
  std::string method_;
  bool upgrade_;
  bool websocket_;  // an upgrade to WebSocket (close frames on a drain)
  std::string head_;
  std::string body_;
  asio::steady_timer timer_;
  Proxy::Clock::time_point queued_at_;
  int app_ = -1;
  int exclude_ = -1;
  bool retried_ = false;
  bool reused_ = false;
  bool timed_out_ = false;
  bool head_sent_ = false;
  bool tunnel_ = false;  // its place on the app process is a tunnel's
  std::unique_ptr<Upstream> upstream_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::unique_ptr<char[]> piece_;
};

void Exchange::Start(int app) {
  app_ = app;
  upstream_ = proxy_.TakeIdle(app);
  reused_ = upstream_ != nullptr;
  if (reused_) {
    Write();
  } else {
    Connect();
  }
}

void Exchange::Arm() {
  timed_out_ = false;
  timer_.expires_after(proxy_.settings_.upstream_timeout);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || !self->upstream_) return;
    self->timed_out_ = true;
    boost::system::error_code ignored;
    self->upstream_->socket.close(ignored);  // the pending operation fails
  });
}

void Exchange::Connect() {
  const region::WorkerSlot& slot = proxy_.region_.slot(app_);
  upstream_ = std::make_unique<Upstream>(proxy_.io_);
  upstream_->app = app_;
  upstream_->port = slot.upstream_port.load(std::memory_order_acquire);
  Arm();
  const std::string& sockets = proxy_.settings_.app_sockets;
  const bool unix = !sockets.empty();
  asio::generic::stream_protocol::endpoint to =
      unix ? asio::generic::stream_protocol::endpoint(
                 asio::local::stream_protocol::endpoint(
                     pool::AppSocketPath(sockets, upstream_->port)))
           : asio::generic::stream_protocol::endpoint(tcp::endpoint(
                 asio::ip::address_v4::loopback(), upstream_->port));
  upstream_->socket.async_connect(
      to, [self = shared_from_this(), unix](boost::system::error_code ec) {
        if (ec) {
          self->Fail(self->timed_out_ ? Failure::kTimeout : Failure::kConnect,
                     ec.message());
          return;
        }
        boost::system::error_code ignored;
        if (!unix) {
          self->upstream_->socket.set_option(tcp::no_delay(true), ignored);
        }
        self->Write();
      });
}

void Exchange::Write() {
  Arm();
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_),
                                               asio::buffer(body_)};
  asio::async_write(
      upstream_->socket, buffers,
      [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) {
          self->Fail(
              self->timed_out_ ? Failure::kTimeout : Failure::kLostBeforeAnswer,
              ec.message());
          return;
        }
        self->ReadHead();
      });
}

void Exchange::ReadHead() {
  parser_.emplace();
  parser_->header_limit(kMaxResponseHead);
  // No limit: the body streams through. (Not boost::none, which Beast
  // 1.74 compares as smaller than any length.)
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  if (method_ == "HEAD") parser_->skip(true);
  Arm();
  ParseHead();
}

void Exchange::ParseHead() {
  beast::flat_buffer& in = upstream_->buffer;
  while (in.size() > 0) {
    const http::Fed fed =
        http::FeedParser(*parser_, in.data(), kMaxResponseHead);
    in.consume(fed.used);
    if (fed.too_large) {
      Fail(Failure::kBroken, "the app's response header is too large");
      return;
    }
    if (parser_->is_header_done()) {
      OnHead();
      return;
    }
    if (fed.ec == bhttp::error::need_more) break;
    if (fed.ec) {
      Fail(Failure::kBroken, fed.ec.message());
      return;
    }
  }
  ReadMore(&Exchange::OnHeadRead);
}

void Exchange::ReadMore(void (Exchange::*then)(boost::system::error_code)) {
  upstream_->socket.async_read_some(
      upstream_->buffer.prepare(kReadPiece),
      [self = shared_from_this(), then](boost::system::error_code ec,
                                        size_t n) {
        if (self->upstream_) self->upstream_->buffer.commit(n);
        ((*self).*then)(ec);
      });
}

void Exchange::OnHeadRead(boost::system::error_code ec) {
  if (!ec) {
    ParseHead();
    return;
  }
  if (timed_out_) {
    Fail(Failure::kTimeout, "no answer in time");
  } else if (!parser_->got_some() && upstream_->buffer.size() == 0) {
    Fail(Failure::kLostBeforeAnswer, ec.message());
  } else {
    Fail(Failure::kBroken, ec.message());
  }
}

void Exchange::OnHead() {
  auto& msg = parser_->get();
  const int status = static_cast<int>(msg.result_int());
  if (status / 100 == 1) {
    if (status == 101 && upgrade_) {
      StartTunnel();
      return;
    }
    if (status == 101) {
      Fail(Failure::kBroken, "the app switched protocols unasked");
      return;
    }
    writer_->WriteInterim(status, ClientResponseHeaders(FieldsOf(msg.base())));
    ReadHead();  // the final answer follows
    return;
  }
  if (writer_->Gone()) {  // the client left; the connection is mid-answer
    upstream_.reset();
    Release();
    return;
  }
  const http::Headers fields = FieldsOf(msg.base());
  const ResponseFraming framing = CheckResponseFraming(fields);
  if (!framing.problem.empty()) {
    Fail(Failure::kBroken, framing.problem);  // 502, connection closed
    return;
  }
  http::Headers headers = ClientResponseHeaders(fields);
  std::optional<uint64_t> length;
  if (!framing.codings.empty()) {
    headers.emplace_back("Transfer-Encoding", framing.codings);
  } else if (!parser_->chunked() && parser_->content_length()) {
    length = *parser_->content_length();
  }
  if (parser_->is_done()) {
    head_sent_ = true;
    UpstreamDone();
    writer_->WriteHead(status, headers, length);
    writer_->Finish();
    return;
  }
  // What of the body came with the head is parsed before the head goes:
  // a small answer then leaves in one write, and a body that is broken
  // from its first bytes is still answered 502.
  PrepareBody();
  boost::system::error_code ec;
  const bool parsed = ParseBuffered(ec);
  if (ec) {
    Fail(Failure::kBroken, ec.message());
    return;
  }
  head_sent_ = true;
  writer_->WriteHead(status, headers, length);
  if (parsed) {
    OnBody(ec);
  } else {
    ReadBody();
  }
}

void Exchange::PrepareBody() {
  if (!piece_) piece_ = std::make_unique<char[]>(kBodyPiece);
  auto& body = parser_->get().body();
  body.data = piece_.get();
  body.size = kBodyPiece;
}

bool Exchange::ParseBuffered(boost::system::error_code& ec) {
  beast::flat_buffer& in = upstream_->buffer;
  if (in.size() == 0) return false;
  parser_->eager(true);
  while (in.size() > 0 && !parser_->is_done()) {
    const http::Fed fed =
        http::FeedParser(*parser_, in.data(), kMaxResponseHead);
    in.consume(fed.used);
    ec = fed.ec;
    if (fed.too_large) {
      ec = bhttp::error::header_limit;  // a chunk line or trailers too big
      break;
    }
    if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) {
      ec = {};
      break;
    }
    if (ec || fed.used == 0) break;
  }
  return ec || parser_->is_done() || parser_->get().body().size < kBodyPiece;
}

void Exchange::OnBody(boost::system::error_code ec) {
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) {
    Fail(timed_out_ ? Failure::kTimeout : Failure::kBroken, ec.message());
    return;
  }
  const size_t n = kBodyPiece - parser_->get().body().size;
  const std::string_view piece(piece_.get(), n);
  if (parser_->is_done()) {
    UpstreamDone();
    // The last piece and the end go together; nothing more is read.
    if (n > 0) writer_->WriteBody(piece, nullptr);
    writer_->Finish();
    return;
  }
  if (n == 0) {
    ReadBody();
    return;
  }
  // The next piece is read only once this one is in the client's socket: a
  // slow client slows the app's answer, not our memory.
  writer_->WriteBody(piece, [self = shared_from_this()] { self->ReadBody(); });
}

void Exchange::StartTunnel() {
  timer_.cancel();
  // The app's own fields, Connection and Upgrade among them: they are the
  // switch itself. What the app sent after its 101 follows it.
  const http::Headers fields = FieldsOf(parser_->get().base());
  std::string to_client;
  http::AppendResponseHead({.status = 101, .headers = &fields}, &to_client);
  to_client += beast::buffers_to_string(upstream_->buffer.data());
  auto tunnel = std::make_shared<Tunnel>(
      proxy_.io_.get_executor(), std::move(upstream_->socket), websocket_,
      proxy_.settings_.websocket_drain);
  upstream_.reset();
  std::optional<http::TakenConnection> taken =
      writer_->TakeConnection([weak = std::weak_ptr<Tunnel>(tunnel)] {
        if (auto t = weak.lock()) t->Drain();
      });
  if (!taken) {  // the client has gone: the app's socket closes with it
    Release();
    return;
  }
  head_sent_ = true;
  // The place on the app process is held while the tunnel lasts (the app's
  // stop waits for it, or drains it), off the caps on requests.
  tunnel_ = true;
  proxy_.balancer_.BecameTunnel(app_);
  proxy_.tunnels_.push_back({tunnel, app_});
  tunnel->Start(std::move(taken->socket), std::move(to_client),
                std::move(taken->early),
                [self = shared_from_this(), ended = std::move(taken->ended)] {
                  self->Release();
                  ended();
                });
}

void Exchange::ReadBody() {
  PrepareBody();
  Arm();
  boost::system::error_code ec;
  if (ParseBuffered(ec)) {
    OnBody(ec);
    return;
  }
  ReadMore(&Exchange::OnBodyRead);
}

void Exchange::OnBodyRead(boost::system::error_code ec) {
  if (ec == asio::error::eof) {
    // The end of an answer read until close, or one cut short.
    ec = {};
    boost::system::error_code parsed;
    if (ParseBuffered(parsed) || parsed) {
      OnBody(parsed);
      return;
    }
    parser_->put_eof(ec);
    OnBody(ec);
    return;
  }
  if (ec) {
    OnBody(ec);
    return;
  }
  if (ParseBuffered(ec)) {
    OnBody(ec);
  } else {
    ReadMore(&Exchange::OnBodyRead);
  }
}

void Exchange::UpstreamDone() {
  timer_.cancel();
  if (parser_->keep_alive() && upstream_->buffer.size() == 0) {
    proxy_.PutIdle(std::move(upstream_));
  }
  upstream_.reset();
  Release();
}

void Exchange::Fail(Failure failure, std::string_view what) {
  timer_.cancel();
  upstream_.reset();
  const int app = app_;
  Release();
  // Safe to send again: the request never reached the app (no connection),
  // or it is a GET or HEAD whose connection closed before any answer.
  const bool again =
      failure == Failure::kConnect ||
      (failure == Failure::kLostBeforeAnswer && Idempotent(method_));
  if (again && !retried_ && !writer_->Gone()) {
    retried_ = true;
    exclude_ = app;
    log::Info(
        "upstream connection failed before any answer; retrying on "
        "another app process",
        {{"app_slot", app}, {"error", std::string(what)}});
    proxy_.Route(shared_from_this());
    return;
  }
  if (head_sent_) {
    log::Warn(
        "app process broke off its answer; closing the client "
        "connection",
        {{"app_slot", app}, {"error", std::string(what)}});
    writer_->Abort();
    return;
  }
  if (failure == Failure::kTimeout) {
    log::Warn("app process did not answer within --upstream-timeout",
              {{"app_slot", app}});
    AnswerError(504, "the app did not answer in time");
    return;
  }
  log::Warn("app process failed the request; answered 502",
            {{"app_slot", app}, {"error", std::string(what)}});
  AnswerError(502, "the app failed to answer");
}

void Exchange::AnswerError(int status, std::string_view message,
                           std::string_view retry_after) {
  http::Response r = http::Response::Error(status, message);
  http::Headers headers = {{"Content-Type", r.content_type}};
  if (!retry_after.empty()) headers.emplace_back("Retry-After", retry_after);
  head_sent_ = true;
  writer_->WriteHead(status, headers, r.body.size());
  writer_->WriteBody(r.body,
                     [self = shared_from_this()] { self->writer_->Finish(); });
}

void Exchange::Release() {
  if (app_ < 0) return;
  const int app = app_;
  app_ = -1;
  proxy_.Released(app, tunnel_);
}

Proxy::Proxy(asio::io_context& io, const region::SharedRegion& region,
             ProxySettings settings)
    : io_(io),
      region_(region),
      settings_(settings),
      own_(region.slot(settings.own_slot)),
      balancer_(region, settings.apps, settings.proxies, settings.own_slot,
                settings.app_concurrency, kUpstreamsPerApp),
      pump_timer_(io),
      sweep_timer_(io) {
  ArmSweep();
}

Proxy::~Proxy() = default;

void Proxy::ArmSweep() {
  sweep_timer_.expires_after(kSweepPeriod);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    SweepIdle();
    ArmSweep();
  });
}

void Proxy::SweepIdle() {
  // Tunnels to an app process that is being stopped drain (1001, going
  // away), so the process is not held up by them.
  OpenTunnels();
  for (const OpenTunnel& open : tunnels_) {
    std::shared_ptr<Tunnel> tunnel = open.tunnel.lock();
    if (tunnel && !Routable(region_.slot(open.app))) tunnel->Drain();
  }
  const Clock::time_point now = Clock::now();
  for (auto& [app, list] : idle_) {
    const region::WorkerSlot& slot = region_.slot(app);
    const bool routable = Routable(slot);
    const uint32_t port = slot.upstream_port.load(std::memory_order_acquire);
    std::erase_if(list, [&](const std::unique_ptr<Upstream>& u) {
      return !routable || u->port != port || now - u->idle_since > kIdleReuse;
    });
  }
}

void Proxy::Handle(const http::Request& request,
                   std::shared_ptr<http::ResponseWriter> writer) {
  auto ex = std::make_shared<Exchange>(*this, request, std::move(writer));
  if (ex->upgrade() && OpenTunnels() >= kMaxTunnels) {
    Reject(ex, "this proxy worker holds as many tunnels as it may");
    return;
  }
  Route(ex);
}

size_t Proxy::OpenTunnels() {
  std::erase_if(tunnels_,
                [](const OpenTunnel& open) { return open.tunnel.expired(); });
  return tunnels_.size();
}

void Proxy::Route(const std::shared_ptr<Exchange>& ex) {
  // Queued ones go first: a newcomer does not overtake them.
  std::optional<int> app;
  if (queue_.empty()) app = Acquire(*ex);
  if (app) {
    ex->Start(*app);
    return;
  }
  Enqueue(ex);
}

std::optional<int> Proxy::Acquire(const Exchange& ex) {
  std::optional<int> app = balancer_.Acquire(ex.exclude());
  // A retry goes to another app process when there is one, else the same.
  if (!app && ex.exclude() >= 0) app = balancer_.Acquire();
  return app;
}

void Proxy::Enqueue(const std::shared_ptr<Exchange>& ex) {
  // --max-queue bounds the wait past the --app-concurrency caps, or for an
  // app process when none takes requests. A request that only waits for one
  // of this worker's upstream connections is not shed: those waits are
  // bounded by the client connections, and the app processes are busy.
  const bool sheddable =
      settings_.app_concurrency > 0 || !balancer_.AnyRoutable();
  if (sheddable && queue_.size() >= static_cast<size_t>(settings_.max_queue)) {
    Reject(ex, "every app process is busy and the queue is full");
    return;
  }
  queue_.push_back(ex);
  own_.queued.store(static_cast<int64_t>(queue_.size()),
                    std::memory_order_relaxed);
  ArmPump();
}

void Proxy::ArmPump() {
  if (pump_armed_ || queue_.empty()) return;
  pump_armed_ = true;
  // Other proxy workers free app processes too, unseen here: look again
  // shortly while anything waits.
  pump_timer_.expires_after(kPumpPeriod);
  pump_timer_.async_wait([this](boost::system::error_code ec) {
    pump_armed_ = false;
    if (!ec) Pump();
  });
}

void Proxy::Pump() {
  const Clock::time_point now = Clock::now();
  while (!queue_.empty()) {
    std::shared_ptr<Exchange> ex = queue_.front();
    if (ex->writer().Gone()) {
      queue_.pop_front();
      continue;
    }
    if (now - ex->queued_at() >= settings_.queue_timeout) {
      queue_.pop_front();
      RecordQueueWait(now - ex->queued_at());
      Reject(ex, "no app process was free within --queue-timeout");
      continue;
    }
    std::optional<int> app = Acquire(*ex);
    if (!app) break;
    queue_.pop_front();
    RecordQueueWait(now - ex->queued_at());
    ex->Start(*app);
  }
  own_.queued.store(static_cast<int64_t>(queue_.size()),
                    std::memory_order_relaxed);
  ArmPump();
}

void Proxy::Reject(const std::shared_ptr<Exchange>& ex, std::string_view why) {
  own_.queue_rejected_total.fetch_add(1, std::memory_order_relaxed);
  log::Warn("request shed with 503", {{"reason", std::string(why)}});
  ex->AnswerError(503, why, "1");
}

void Proxy::RecordQueueWait(Clock::duration waited) {
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count();
  own_.queue_wait_sum_ns.fetch_add(static_cast<uint64_t>(ns),
                                   std::memory_order_relaxed);
  own_.queue_wait_buckets[static_cast<size_t>(region::BucketIndex(ns))]
      .fetch_add(1, std::memory_order_relaxed);
}

void Proxy::Released(int app, bool tunnel) {
  if (tunnel) {
    balancer_.ReleaseTunnel(app);
  } else {
    balancer_.Release(app);
  }
  if (!queue_.empty()) {
    asio::post(io_, [this] { Pump(); });
  }
}

std::unique_ptr<Upstream> Proxy::TakeIdle(int app) {
  auto it = idle_.find(app);
  if (it == idle_.end()) return nullptr;
  const uint32_t port =
      region_.slot(app).upstream_port.load(std::memory_order_acquire);
  const Clock::time_point now = Clock::now();
  std::vector<std::unique_ptr<Upstream>>& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<Upstream> u = std::move(list.back());
    list.pop_back();
    if (u->port != port || now - u->idle_since > kIdleReuse) continue;
    // A connection the app has closed reads EOF (or a reset) at once.
    char probe;
    ssize_t n =
        ::recv(u->socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return u;
  }
  return nullptr;
}

void Proxy::PutIdle(std::unique_ptr<Upstream> upstream) {
  upstream->idle_since = Clock::now();
  std::vector<std::unique_ptr<Upstream>>& list = idle_[upstream->app];
  // The oldest go first when a burst leaves more idle than ever needed.
  if (list.size() >= 256) list.erase(list.begin());
  list.push_back(std::move(upstream));
}

App ProxyApp() {
  App app;
  app.name = "corral";
  app.version = CORRAL_VERSION;
  app.setup = [](WorkerContext& context) -> absl::Status {
    std::map<std::string, std::string> env = CurrentEnvironment();
    auto worker = pool::ParseWorkerEnv(env);
    if (!worker.ok()) return worker.status();
    SlotRange apps;
    int queue_share = 0;
    if (!pool::ParseSlots(env[kAppSlotsEnv], &apps.first, &apps.count) ||
        worker->siblings_count == 0 ||
        !absl::SimpleAtoi(env[kQueueShareEnv], &queue_share)) {
      return absl::FailedPreconditionError(
          "a proxy worker needs the app processes' slots, its siblings' and "
          "its queue share in its environment");
    }
    SlotRange proxies{worker->siblings_first, worker->siblings_count};
    auto region = region::SharedRegion::Attach(worker->region_fd);
    if (!region.ok()) return region.status();
    // Both live as long as the worker's loop: the handler owns them.
    auto shared_region =
        std::make_shared<region::SharedRegion>(std::move(*region));
    const Options& o = context.options();
    ProxySettings s;
    s.apps = apps;
    s.proxies = proxies;
    s.own_slot = worker->slot;
    s.app_concurrency = o.app_concurrency;
    s.max_queue = queue_share;
    s.queue_timeout =
        std::chrono::milliseconds(absl::ToInt64Milliseconds(o.queue_timeout));
    s.upstream_timeout = std::chrono::milliseconds(
        absl::ToInt64Milliseconds(o.upstream_timeout));
    s.app_sockets = env[kAppSocketsEnv];
    s.websocket_drain =
        std::chrono::milliseconds(absl::ToInt64Milliseconds(o.websocket_drain));
    auto proxy = std::make_shared<Proxy>(context.io(), *shared_region, s);
    context.router().Forward(
        [proxy, shared_region](const http::Request& request,
                               std::shared_ptr<http::ResponseWriter> writer) {
          proxy->Handle(request, std::move(writer));
        });
    for (const std::string& t : o.routes) context.router().Label(t);
    return absl::OkStatus();
  };
  return app;
}

}  // namespace corral::proxy
