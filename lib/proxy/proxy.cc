#include "proxy/proxy.h"

#include <boost/asio/post.hpp>

#include "log/log.h"
#include "proxy/exchange.h"
#include "proxy/tunnel.h"
#include "region/slot_recorder.h"

namespace corral::proxy {

namespace asio = boost::asio;

namespace {

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

}  // namespace

Proxy::Proxy(asio::io_context& io, const region::SharedRegion& region,
             ProxySettings settings)
    : io_(io),
      region_(region),
      settings_(settings),
      own_(region.slot(settings.own_slot)),
      balancer_(region, settings.apps, settings.proxies, settings.own_slot,
                settings.app_concurrency, kUpstreamsPerApp),
      pump_timer_(io),
      pool_(region),
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
  pool_.Sweep(Clock::now());
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
  region::RecordQueueWait(
      own_,
      std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count());
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

void Proxy::TunnelOpened(const std::shared_ptr<Tunnel>& tunnel, int app) {
  balancer_.BecameTunnel(app);
  tunnels_.push_back({tunnel, app});
}

}  // namespace corral::proxy
