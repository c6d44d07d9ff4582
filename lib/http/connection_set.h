// The open connections of one server, so a drain can reach each of them,
// one timer can enforce every connection's timeouts and one epoll set can
// watch them all.
#ifndef CORRAL_HTTP_CONNECTION_SET_H_
#define CORRAL_HTTP_CONNECTION_SET_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

#include "http/poller.h"

namespace corral::http {

class Session;

class ConnectionSet {
 public:
  // How often timeouts are checked: their resolution. A scan of 14,000
  // connections every 100 ms was 2.5% of a loaded worker's time.
  static constexpr std::chrono::milliseconds kSweepPeriod{250};

  ~ConnectionSet();
  void Add(Session* s, const boost::asio::any_io_executor& executor);
  void Remove(Session* s);
  // Valid once a session was added.
  Poller& poller() { return *poller_; }
  // Tells every connection to close once idle or after its next answer:
  // all at once, or a share at a time across `spread` (see drain_pace.h).
  // A connection added after the drain began is told at once.
  void DrainAll(std::chrono::milliseconds spread = {});
  size_t size() const { return sessions_.size(); }
  // Called whenever the set becomes empty.
  void OnEmpty(std::function<void()> f) { on_empty_ = std::move(f); }
  // Applies the timeouts of every connection at `now`.
  void Sweep(std::chrono::steady_clock::time_point now);

 private:
  void ArmSweep();
  void DrainStep();

  std::unordered_set<Session*> sessions_;
  std::function<void()> on_empty_;
  // Created with the first connection's executor, like the timer.
  std::optional<Poller> poller_;
  // Created with the first connection's executor; ticks while any is open.
  std::optional<boost::asio::steady_timer> sweep_timer_;
  bool sweep_armed_ = false;
  std::vector<Session*> sweep_scratch_;
  // A paced drain: who is still to be told, in order, and how far it got.
  bool draining_ = false;
  std::vector<Session*> drain_queue_;
  size_t drain_told_ = 0;
  std::chrono::steady_clock::time_point drain_began_;
  std::chrono::milliseconds drain_spread_{0};
  std::optional<boost::asio::steady_timer> drain_timer_;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_CONNECTION_SET_H_
