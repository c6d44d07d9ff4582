// Supervisor::Resize: the pool's worker count changed at run time (the
// pod's CPUs changed, see cpu_follower.h). Kept apart from supervisor.cc,
// which it touches only through ApplyResize in Tick.
//
// Growing starts the new seats' workers at once. Shrinking drains the last
// seat's worker and waits until it has exited before the seat goes and the
// next one drains: capacity drops by one worker at a time, and a seat is
// only removed when no worker of it is left (OnChildExit looks seats up by
// index).
#include <algorithm>

#include "log/log.h"
#include "master/supervisor.h"

namespace corral::master {

void Supervisor::Resize(int workers, std::string reason) {
  if (ShuttingDown()) {
    log::Info("worker count change ignored: shutting down",
              {{"pool", config_.name}, {"workers", workers}});
    return;
  }
  // Room for a draining worker beside each serving one, as at start.
  const int cap = std::max(1, config_.slots.count / 2);
  if (workers > cap) {
    log::Warn("worker count capped by the slots made at start",
              {{"pool", config_.name}, {"wanted", workers}, {"cap", cap}});
    workers = cap;
  }
  workers = std::max(1, workers);
  if (workers == config_.workers && !pending_resize_) return;
  pending_resize_ = PendingResize{workers, std::move(reason)};
  if (state_ != PoolState::kServing) {
    log::Info("worker count will change once the pool serves",
              {{"pool", config_.name},
               {"workers", workers},
               {"state", pool::Name(state_)},
               {"reason", pending_resize_->reason}});
  }
  ApplyResize();
}

bool Supervisor::SeatHasWorker(int index) const {
  return std::any_of(workers_.begin(), workers_.end(), [index](const auto& p) {
    return p.second.index == index;
  });
}

void Supervisor::ApplyResize() {
  const int wanted = config_.workers;
  // A surplus seat whose worker has exited goes.
  while (static_cast<int>(seats_.size()) > wanted &&
         !SeatHasWorker(static_cast<int>(seats_.size()) - 1)) {
    seats_.pop_back();
  }
  // Never while starting, rolling or shutting down: those steps run on the
  // seats as they are.
  if (state_ != PoolState::kServing) return;
  if (pending_resize_) {
    log::Info("worker count changed", {{"pool", config_.name},
                                       {"workers_before", config_.workers},
                                       {"workers", pending_resize_->workers},
                                       {"reason", pending_resize_->reason}});
    config_.workers = pending_resize_->workers;
    pending_resize_.reset();
    ApplyResize();
    return;
  }
  const int seats = static_cast<int>(seats_.size());
  if (seats > wanted) {
    // One at a time: the last seat's worker, once.
    const int last = seats - 1;
    Seat& seat = seats_[last];
    seat.restart_pending = false;
    seat.failures = 0;
    for (auto& [pid, w] : workers_) {
      if (w.index == last && w.phase != WorkerPhase::kDraining) {
        DrainWorker(w, RetireReason::kResize);
      }
    }
    return;
  }
  seats_.resize(static_cast<size_t>(wanted));
  for (int i = 0; i < wanted; ++i) {
    const Seat& seat = seats_[i];
    // A recycle under way owns its seat: a drain-first one starts the
    // replacement once the old worker has exited, for the memory's sake.
    if (recycle_ && recycle_->index == i) continue;
    // A new seat, or one a shrink emptied before this grow.
    if (seat.serving == 0 && seat.starting == 0 && !seat.restart_pending) {
      SpawnWorker(i, false);
    }
  }
}

}  // namespace corral::master
