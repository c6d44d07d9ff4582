// Supervisor's recycling: one worker at a time replaced for what it has
// become. The policies that ask for it (memory, age, requests) are in
// lifecycle_guards.cc; this is the mechanism, shared with rolls: a
// replacement is started and made ready exactly as a roll's, and the old
// worker drains through DrainWorker.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "log/log.h"
#include "master/supervisor.h"

namespace corral::master {

std::string_view Name(RecycleOrder order) {
  return order == RecycleOrder::kDrainFirst ? "drain_first"
                                            : "replacement_first";
}

bool Supervisor::RequestRecycle(pid_t pid, RetireReason reason,
                                RecycleOrder order, std::string why) {
  auto it = workers_.find(pid);
  if (ShuttingDown() || it == workers_.end() ||
      it->second.phase != WorkerPhase::kReady) {
    return false;
  }
  if (recycle_ && recycle_->request.pid == pid) return true;
  for (const RecycleRequest& r : recycle_wanted_) {
    if (r.pid == pid) return true;
  }
  recycle_wanted_.push_back({pid, reason, order, std::move(why)});
  AdvanceRecycle();
  return true;
}

void Supervisor::AdvanceRecycle() {
  // Requests for workers that have gone since (crashed, drained) lapse.
  std::erase_if(recycle_wanted_, [this](const RecycleRequest& r) {
    auto it = workers_.find(r.pid);
    return it == workers_.end() || it->second.phase != WorkerPhase::kReady;
  });
  if (recycle_ || recycle_wanted_.empty()) return;
  if (state_ != PoolState::kServing) return;
  // Every seat up and none on its way: at most one seat is ever short.
  for (const Seat& s : seats_) {
    if (s.serving == 0 || s.starting != 0 || s.restart_pending) return;
  }
  RecycleRequest next = std::move(recycle_wanted_.front());
  recycle_wanted_.erase(recycle_wanted_.begin());
  BeginRecycle(std::move(next));
}

void Supervisor::BeginRecycle(RecycleRequest request) {
  WorkerInfo& w = workers_.at(request.pid);
  recycle_ = Recycle{request, w.index, clock_.Now()};
  log::Info("recycling worker", {{"pool", config_.name},
                                 {"worker", w.index},
                                 {"worker_pid", w.pid},
                                 {"reason", pool::Name(request.reason)},
                                 {"order", Name(request.order)},
                                 {"why", request.why}});
  if (request.order == RecycleOrder::kDrainFirst) {
    DrainWorker(w, request.reason);
    return;
  }
  SpawnWorker(w.index, true);
  Seat& seat = seats_[w.index];
  if (seat.starting == 0) {
    // No process or no slot for the replacement: the worker keeps serving,
    // and whoever asked may ask again.
    seat.restart_pending = false;
    log::Warn("recycle abandoned: its replacement could not start",
              {{"worker", w.index}, {"worker_pid", w.pid}});
    recycle_.reset();
  }
}

void Supervisor::DropRecycleRequests(std::string_view why) {
  if (recycle_wanted_.empty()) return;
  log::Info("recycle requests dropped", {{"pool", config_.name},
                                         {"requests", recycle_wanted_.size()},
                                         {"why", why}});
  recycle_wanted_.clear();
}

RetireReason Supervisor::ReplacedReason(pid_t old) const {
  if (recycle_ && recycle_->request.pid == old) return recycle_->request.reason;
  return RetireReason::kRoll;
}

void Supervisor::RecycleExited(const WorkerInfo& w, bool replacement_failed) {
  if (!recycle_ || recycle_->index != w.index) return;
  if (replacement_failed) {
    log::Warn("recycle abandoned: the old worker keeps serving",
              {{"worker", w.index}, {"worker_pid", recycle_->request.pid}});
    recycle_.reset();
    return;
  }
  if (w.pid != recycle_->request.pid) return;
  const bool drained_first =
      recycle_->request.order == RecycleOrder::kDrainFirst;
  log::Info("recycle finished",
            {{"pool", config_.name},
             {"worker", w.index},
             {"worker_pid", w.pid},
             {"reason", pool::Name(recycle_->request.reason)},
             {"order", Name(recycle_->request.order)},
             {"seconds", absl::ToDoubleSeconds(absl::Nanoseconds(
                             clock_.Now() - recycle_->started_ns))}});
  recycle_.reset();
  // Drain first: the seat is empty until its replacement is up. A seat that
  // crashed meanwhile restarts on its own schedule.
  Seat& seat = seats_[w.index];
  if (drained_first && !ShuttingDown() && seat.serving == 0 &&
      seat.starting == 0 && !seat.restart_pending) {
    SpawnWorker(w.index, false);
  }
}

std::optional<nlohmann::json> Supervisor::OomKill(const WorkerInfo& w,
                                                  int status) const {
  if (w.killed || !oom_check_ || !WIFSIGNALED(status) ||
      WTERMSIG(status) != SIGKILL) {
    return std::nullopt;
  }
  return oom_check_(w.pid);
}

nlohmann::json Supervisor::RecycleJson() const {
  if (!recycle_) return nullptr;
  return {{"worker", recycle_->index},
          {"pid", recycle_->request.pid},
          {"reason", pool::Name(recycle_->request.reason)},
          {"order", Name(recycle_->request.order)},
          {"why", recycle_->request.why},
          {"waiting", recycle_wanted_.size()}};
}

}  // namespace corral::master
