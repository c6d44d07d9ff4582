#include "http/connection_set.h"

#include "http/session.h"

namespace corral::http {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ConnectionSet::~ConnectionSet() {
  if (sweep_timer_) sweep_timer_->cancel();
}

void ConnectionSet::Add(Session* s, const asio::any_io_executor& executor) {
  sessions_.insert(s);
  if (!sweep_timer_) sweep_timer_.emplace(executor);
  if (!poller_) poller_.emplace(executor);
  ArmSweep();
}

void ConnectionSet::Remove(Session* s) {
  sessions_.erase(s);
  if (sessions_.empty() && on_empty_) on_empty_();
}

void ConnectionSet::DrainAll() {
  std::vector<Session*> copy(sessions_.begin(), sessions_.end());
  for (Session* s : copy) {
    if (sessions_.count(s)) s->Drain();
  }
}

void ConnectionSet::ArmSweep() {
  if (sweep_armed_ || sessions_.empty()) return;
  sweep_armed_ = true;
  sweep_timer_->expires_after(kSweepPeriod);
  sweep_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled: this set is being destroyed
    sweep_armed_ = false;
    Sweep(Clock::now());
    ArmSweep();
  });
}

void ConnectionSet::Sweep(Clock::time_point now) {
  // Found first, acted on after: a session acting on a timeout may end (and
  // leave the set) on return.
  sweep_scratch_.clear();
  for (Session* s : sessions_) {
    if (s->TimedOut(now)) sweep_scratch_.push_back(s);
  }
  for (Session* s : sweep_scratch_) s->Sweep(now);
}

}  // namespace corral::http
