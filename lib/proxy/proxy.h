// Proxy mode's admission and routing, in each of corral's proxy workers:
// every request the session has read in full goes to the least busy app
// process (Balancer) as an Exchange (exchange.h). Past each app process's
// concurrency limit (adaptive, limits.h, up to --app-concurrency),
// requests wait in an AdmissionQueue by class (--priority), bounded by
// length, by the delay target and by --queue-timeout; those shed get 503
// with Retry-After. The worker's kept-alive connections to app processes
// are its UpstreamPool; its WebSockets are Tunnels.
#ifndef CORRAL_PROXY_PROXY_H_
#define CORRAL_PROXY_PROXY_H_

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "http/request.h"
#include "http/response.h"
#include "overload/admission_queue.h"
#include "overload/limiter.h"
#include "overload/priority.h"
#include "proxy/balancer.h"
#include "proxy/limits.h"
#include "proxy/upstream_pool.h"
#include "region/shared_region.h"

namespace corral::proxy {

struct ProxySettings {
  SlotRange apps;
  SlotRange proxies;
  int own_slot = 0;
  int app_concurrency = 0;  // 0: no cap (with adaptive: the limiter's)
  // Each app process's cap follows its latencies (limits.h).
  bool adaptive = true;
  overload::LimiterSettings limiter;
  int max_queue = 1024;  // this proxy worker's share
  std::chrono::milliseconds queue_timeout{10000};
  std::chrono::milliseconds queue_target{50};
  std::chrono::milliseconds queue_interval{1000};
  overload::PriorityRules priority;
  std::chrono::milliseconds upstream_timeout{60000};
  // --request-deadline (0: none): the app process still holding a request
  // this old is marked to be recycled (the session answers the 504).
  std::chrono::milliseconds request_deadline{0};
  // Where app processes listen: unix sockets in this directory
  // (pool::AppSocketPath), or ports on 127.0.0.1 when empty.
  std::string app_sockets;
  // How long a drained tunnel stays open (--websocket-drain).
  std::chrono::milliseconds websocket_drain{5000};
};

class Exchange;
class Tunnel;

class Proxy {
 public:
  Proxy(boost::asio::io_context& io, const region::SharedRegion& region,
        ProxySettings settings);
  ~Proxy();

  void Handle(const http::Request& request,
              std::shared_ptr<http::ResponseWriter> writer);

  // What an exchange uses of its proxy worker.
  boost::asio::io_context& io() { return io_; }
  const region::SharedRegion& region() const { return region_; }
  const ProxySettings& settings() const { return settings_; }
  UpstreamPool& pool() { return pool_; }
  // Sends the exchange to an app process, or queues it (a retry, too).
  void Route(const std::shared_ptr<Exchange>& ex);
  // An exchange of class `priority` let go of its app process (`tunnel`:
  // as a tunnel).
  void Released(int app, overload::Priority priority, bool tunnel);
  // An exchange's connection became a tunnel to `app`.
  void TunnelOpened(const std::shared_ptr<Tunnel>& tunnel, int app,
                    overload::Priority priority);
  // The head of an answer from `app` came, for a request of class
  // `priority` sent at `started_ns` (CLOCK_MONOTONIC); the kernel received
  // it at `received_unix_ns` (stamped_read.h; 0: unstamped, now counts).
  void Answered(int app, int64_t started_ns, int64_t received_unix_ns,
                overload::Priority priority);

 private:
  using Clock = std::chrono::steady_clock;

  void Enqueue(const std::shared_ptr<Exchange>& ex);
  std::optional<int> Acquire(const Exchange& ex);
  // Dispatches queued exchanges while app processes have room; answers
  // those that waited too long.
  void Pump();
  void ArmPump();
  // Whether the queue is bounded: only a wait for one of this worker's
  // upstream connections is not (see Enqueue).
  bool Sheddable() const;
  void Send(const std::shared_ptr<Exchange>& ex, int app);
  void Reject(const std::shared_ptr<Exchange>& ex, overload::ShedReason why);
  void PublishQueueLength();
  void ArmLimits();
  void RecordQueueWait(overload::Priority priority, Clock::duration waited);
  // Tunnels still open, the ended ones forgotten.
  size_t OpenTunnels();
  // Drains tunnels to app processes being stopped; sweeps the pool.
  void SweepIdle();
  void ArmSweep();

  boost::asio::io_context& io_;
  const region::SharedRegion& region_;
  ProxySettings settings_;
  region::WorkerSlot& own_;
  Balancer balancer_;
  Limits limits_;
  boost::asio::steady_timer limits_timer_;
  overload::AdmissionQueue<std::shared_ptr<Exchange>> queue_;
  boost::asio::steady_timer pump_timer_;
  bool pump_armed_ = false;
  UpstreamPool pool_;
  boost::asio::steady_timer sweep_timer_;
  // Tunnels (WebSockets) while they last, with the app process each is to.
  struct OpenTunnel {
    std::weak_ptr<Tunnel> tunnel;
    int app = -1;
  };
  std::vector<OpenTunnel> tunnels_;
  // Under overload requests are shed by the thousand a second: one log
  // line per class and reason at most every few seconds, saying how many
  // it stands for, and nothing built for the rest (building the line cost
  // a shed answer about a fifth of its CPU).
  struct ShedLog {
    int64_t next_ns = 0;
    int64_t held_back = 0;
  };
  std::array<ShedLog, overload::kPriorities * overload::kShedReasons>
      shed_log_{};
  // The 503 of each reason, made once.
  std::array<http::Response, overload::kShedReasons> shed_answers_;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_PROXY_H_
