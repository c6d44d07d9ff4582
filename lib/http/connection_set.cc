#include "http/connection_set.h"

#include "http/drain_pace.h"
#include "http/session.h"

namespace corral::http {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How often a paced drain tells the next share of its connections.
constexpr std::chrono::milliseconds kDrainStepPeriod{50};

ConnectionSet::~ConnectionSet() {
  if (sweep_timer_) sweep_timer_->cancel();
  if (drain_timer_) drain_timer_->cancel();
}

void ConnectionSet::Add(Session* s, const asio::any_io_executor& executor) {
  sessions_.insert(s);
  if (!sweep_timer_) sweep_timer_.emplace(executor);
  if (!drain_timer_) drain_timer_.emplace(executor);
  if (!poller_) poller_.emplace(executor);
  ArmSweep();
  if (draining_) s->Drain();
}

void ConnectionSet::Remove(Session* s) {
  sessions_.erase(s);
  if (sessions_.empty() && on_empty_) on_empty_();
}

void ConnectionSet::DrainAll(std::chrono::milliseconds spread) {
  if (draining_) return;
  draining_ = true;
  drain_queue_.assign(sessions_.begin(), sessions_.end());
  drain_told_ = 0;
  drain_began_ = Clock::now();
  drain_spread_ = drain_timer_ ? spread : std::chrono::milliseconds{0};
  DrainStep();
}

// A session in the queue may have ended since (it left the set); one that
// reused its address joined after the drain began and was told already.
void ConnectionSet::DrainStep() {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::now() - drain_began_);
  const size_t due = DrainedBy(drain_queue_.size(), elapsed, drain_spread_);
  for (; drain_told_ < due; ++drain_told_) {
    Session* s = drain_queue_[drain_told_];
    if (sessions_.count(s)) s->Drain();
  }
  if (drain_told_ == drain_queue_.size()) {
    drain_queue_.clear();
    drain_queue_.shrink_to_fit();
    return;
  }
  drain_timer_->expires_after(kDrainStepPeriod);
  drain_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) DrainStep();  // else cancelled: this set is being destroyed
  });
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
