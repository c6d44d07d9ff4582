#include "proxy/proxy.h"

#include <boost/asio/post.hpp>

#include "clock/clock.h"
#include "log/log.h"
#include "proxy/exchange.h"
#include "proxy/stamped_read.h"
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
// How often the owner of the limits looks at them (a limiter moves them at
// most once a window; a probe ends as soon as its samples are in).
constexpr std::chrono::milliseconds kLimitsPeriod{10};
// One line per class and reason of shedding at most this often.
constexpr int64_t kShedLogEveryNs = 5'000'000'000;

int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::string_view Why(overload::ShedReason reason) {
  switch (reason) {
    case overload::ShedReason::kQueueFull:
      return "every app process is busy and the queue is full";
    case overload::ShedReason::kDisplaced:
      return "a request of a higher class took this one's place in the "
             "queue";
    case overload::ShedReason::kQueueDelay:
      return "the queue stands: this request waited past its delay target";
    case overload::ShedReason::kQueueTimeout:
      return "no app process was free within --queue-timeout";
    case overload::ShedReason::kTunnels:
      return "this proxy worker holds as many tunnels as it may";
  }
  return "shed";
}

}  // namespace

Proxy::Proxy(asio::io_context& io, const region::SharedRegion& region,
             ProxySettings settings)
    : io_(io),
      region_(region),
      settings_(settings),
      own_(region.slot(settings.own_slot)),
      balancer_(region, settings.apps, settings.proxies, settings.own_slot,
                settings.app_concurrency, kUpstreamsPerApp, settings.adaptive,
                settings.limiter.min_limit),
      limits_(region, settings.apps, settings.proxies, settings.own_slot,
              settings.limiter),
      limits_timer_(io),
      queue_(static_cast<size_t>(settings.max_queue),
             overload::DelayTarget(Nanos(settings.queue_target),
                                   Nanos(settings.queue_interval))),
      pump_timer_(io),
      pool_(region),
      sweep_timer_(io) {
  for (int r = 0; r < overload::kShedReasons; ++r) {
    shed_answers_[static_cast<size_t>(r)] =
        http::Response::Error(503, Why(static_cast<overload::ShedReason>(r)));
  }
  ArmSweep();
  if (settings_.adaptive) ArmLimits();
}

void Proxy::ArmLimits() {
  limits_timer_.expires_after(kLimitsPeriod);
  limits_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    limits_.Tick(clock::MonotonicNanos());
    ArmLimits();
  });
}

void Proxy::Answered(int app, int64_t started_ns, int64_t received_unix_ns,
                     overload::Priority priority) {
  if (!settings_.adaptive) return;
  const int64_t now = clock::MonotonicNanos();
  limits_.OnAnswer(
      app, started_ns,
      received_unix_ns > 0
          ? ArrivedAt(received_unix_ns, now, clock::UnixNanos(), started_ns)
          : now,
      priority);
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
  auto ex = std::make_shared<Exchange>(
      *this, request, std::move(writer),
      settings_.priority.Classify(request.method, request.RawPath()));
  ex->WatchDeadline();
  if (ex->upgrade() && OpenTunnels() >= kMaxTunnels) {
    Reject(ex, overload::ShedReason::kTunnels);
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
  // Queued ones go first: a newcomer waits its turn in its class.
  std::optional<int> app;
  if (queue_.empty()) app = Acquire(*ex);
  if (app) {
    Send(ex, *app);
    return;
  }
  Enqueue(ex);
}

std::optional<int> Proxy::Acquire(const Exchange& ex) {
  std::optional<int> app = balancer_.Acquire(ex.exclude(), ex.priority());
  // A retry goes to another app process when there is one, else the same.
  if (!app && ex.exclude() >= 0) app = balancer_.Acquire(-1, ex.priority());
  return app;
}

void Proxy::Send(const std::shared_ptr<Exchange>& ex, int app) {
  if (ex->exclude() < 0) {  // a retry was counted the first time
    own_.admitted_total[static_cast<size_t>(ex->priority())].fetch_add(
        1, std::memory_order_relaxed);
  }
  ex->Start(app);
}

bool Proxy::Sheddable() const {
  // The queue bounds the wait past the app processes' limits, or for an
  // app process when none takes requests. A request that only waits for
  // one of this worker's upstream connections is not shed: those waits are
  // bounded by the client connections, and the app processes are busy.
  return settings_.adaptive || settings_.app_concurrency > 0 ||
         !balancer_.AnyRoutable();
}

void Proxy::Enqueue(const std::shared_ptr<Exchange>& ex) {
  std::vector<overload::AdmissionQueue<std::shared_ptr<Exchange>>::Shed> shed;
  std::optional<overload::ShedReason> refused;
  if (Sheddable()) {
    refused = queue_.Push(ex, ex->priority(), clock::MonotonicNanos(), shed);
  } else {
    queue_.PushUnbounded(ex, ex->priority(), clock::MonotonicNanos());
  }
  for (auto& s : shed) Reject(s.entry.item, s.reason);
  if (refused) {
    Reject(ex, *refused);
    return;
  }
  PublishQueueLength();
  ArmPump();
}

void Proxy::PublishQueueLength() {
  own_.queued.store(static_cast<int64_t>(queue_.size()),
                    std::memory_order_relaxed);
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
  const int64_t now = clock::MonotonicNanos();
  std::vector<overload::AdmissionQueue<std::shared_ptr<Exchange>>::Shed> shed;
  queue_.Expire(now, Sheddable() && balancer_.AnyRoutable(),
                Nanos(settings_.queue_timeout), shed);
  for (auto& s : shed) {
    if (s.entry.item->writer().Gone()) continue;
    RecordQueueWait(s.entry.priority,
                    std::chrono::nanoseconds(now - s.entry.queued_ns));
    Reject(s.entry.item, s.reason);
  }
  while (auto* next = queue_.Next()) {
    if (next->item->writer().Gone()) {
      queue_.Pop();
      continue;
    }
    std::optional<int> app = Acquire(*next->item);
    if (!app) break;
    auto entry = queue_.Pop();
    RecordQueueWait(entry.priority,
                    std::chrono::nanoseconds(now - entry.queued_ns));
    Send(entry.item, *app);
  }
  PublishQueueLength();
  ArmPump();
}

void Proxy::Reject(const std::shared_ptr<Exchange>& ex,
                   overload::ShedReason why) {
  own_.queue_rejected_total.fetch_add(1, std::memory_order_relaxed);
  own_.shed_total[static_cast<size_t>(ex->priority())][static_cast<size_t>(why)]
      .fetch_add(1, std::memory_order_relaxed);
  ShedLog& line =
      shed_log_[static_cast<size_t>(ex->priority()) * overload::kShedReasons +
                static_cast<size_t>(why)];
  const int64_t now = clock::MonotonicNanos();
  if (now < line.next_ns) {
    ++line.held_back;
  } else {
    log::Warn("request shed with 503",
              {{"reason", std::string(overload::Name(why))},
               {"class", std::string(overload::Name(ex->priority()))},
               {"why", std::string(Why(why))},
               {"more_shed_since_last_line", line.held_back}});
    line.held_back = 0;
    line.next_ns = now + kShedLogEveryNs;
  }
  ex->AnswerError(shed_answers_[static_cast<size_t>(why)], "1");
}

void Proxy::RecordQueueWait(overload::Priority priority,
                            Clock::duration waited) {
  region::RecordQueueWait(
      own_, priority,
      std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count());
}

void Proxy::Released(int app, overload::Priority priority, bool tunnel) {
  if (tunnel) {
    balancer_.ReleaseTunnel(app);
  } else {
    balancer_.Release(app, priority);
  }
  if (!queue_.empty()) {
    asio::post(io_, [this] { Pump(); });
  }
}

void Proxy::TunnelOpened(const std::shared_ptr<Tunnel>& tunnel, int app,
                         overload::Priority priority) {
  balancer_.BecameTunnel(app, priority);
  tunnels_.push_back({tunnel, app});
}

}  // namespace corral::proxy
