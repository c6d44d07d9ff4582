#include "master/supervisor.h"

#include <signal.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "log/log.h"
#include "pid1/pid1.h"

namespace corral::master {
namespace {

int64_t ToNanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

std::string_view PoolStateName(PoolState s) {
  switch (s) {
    case PoolState::kStarting:
      return "starting";
    case PoolState::kServing:
      return "serving";
    case PoolState::kRolling:
      return "rolling";
    case PoolState::kDraining:
      return "draining";
    case PoolState::kStopped:
      return "stopped";
  }
  return "unknown";
}

std::string_view RetireReasonName(RetireReason r) {
  switch (r) {
    case RetireReason::kNone:
      return "none";
    case RetireReason::kCrash:
      return "crash";
    case RetireReason::kTimeout:
      return "timeout";
    case RetireReason::kStartFailed:
      return "start_failed";
    case RetireReason::kRoll:
      return "roll";
    case RetireReason::kShutdown:
      return "shutdown";
  }
  return "none";
}

std::string_view WorkerPhaseName(WorkerInfo::Phase p) {
  switch (p) {
    case WorkerInfo::Phase::kStarting:
      return "starting";
    case WorkerInfo::Phase::kReady:
      return "ready";
    case WorkerInfo::Phase::kDraining:
      return "draining";
  }
  return "unknown";
}

Supervisor::Supervisor(SupervisorConfig config, ProcessControl& control,
                       region::SharedRegion& region)
    : config_(config),
      control_(control),
      region_(region),
      seats_(static_cast<size_t>(config.workers)),
      slot_used_(static_cast<size_t>(region.slot_count()), false) {}

void Supervisor::Start(int64_t now_ns) {
  log::Info("starting workers",
            {{"workers", config_.workers}, {"generation", generation_}});
  for (int i = 0; i < config_.workers; ++i) SpawnWorker(i, now_ns, false);
}

std::optional<int> Supervisor::TakeSlot() {
  for (size_t i = 0; i < slot_used_.size(); ++i) {
    if (!slot_used_[i]) {
      slot_used_[i] = true;
      region_.Reset(static_cast<int>(i));
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

void Supervisor::SpawnWorker(int index, int64_t now_ns, bool replacement) {
  Seat& seat = seats_[index];
  seat.restart_pending = false;
  std::optional<int> slot = TakeSlot();
  if (!slot) {
    // Every slot is held by a draining worker: try again on a later tick.
    log::Warn("no free worker slot; waiting for a draining worker to exit",
              {{"worker", index}});
    seat.restart_pending = true;
    seat.restart_at_ns = now_ns + ToNanos(absl::Milliseconds(100));
    return;
  }
  absl::StatusOr<pid_t> pid = control_.StartWorker(index, *slot, generation_);
  if (!pid.ok()) {
    slot_used_[*slot] = false;
    log::Error("could not start worker",
               {{"worker", index}, {"error", pid.status().ToString()}});
    if (replacement && roll_) {
      FinishRoll(now_ns, "failed", pid.status().ToString());
    } else {
      ++seat.failures;
      ScheduleRestart(index, now_ns);
    }
    return;
  }
  WorkerInfo w;
  w.index = index;
  w.slot = *slot;
  w.pid = *pid;
  w.generation = generation_;
  w.spawned_ns = now_ns;
  w.started_unix_ns = region::UnixNanos();
  w.replacement = replacement;
  workers_[*pid] = w;
  epochs_[*pid] = epoch_;
  seat.starting = *pid;
  log::Info("worker started", {{"worker", index},
                               {"worker_pid", *pid},
                               {"worker_slot", *slot},
                               {"generation", generation_},
                               {"replacement", replacement}});
}

void Supervisor::ScheduleRestart(int index, int64_t now_ns) {
  Seat& seat = seats_[index];
  absl::Duration delay = config_.backoff.Delay(seat.failures);
  seat.restart_pending = true;
  seat.restart_at_ns = now_ns + ToNanos(delay);
  nlohmann::json fields = {
      {"worker", index},
      {"consecutive_failures", seat.failures},
      {"restart_in_seconds", absl::ToDoubleSeconds(delay)}};
  if (seat.failures >= config_.crash_loop_limit) {
    log::Error(
        "worker is crash-looping; /livez now fails so the kubelet "
        "restarts the container",
        fields);
  } else {
    log::Info("worker will be restarted", fields);
  }
}

void Supervisor::ReadyWorker(WorkerInfo& w, int64_t now_ns) {
  w.phase = WorkerInfo::Phase::kReady;
  w.ready_ns = now_ns;
  Seat& seat = seats_[w.index];
  seat.starting = 0;
  seat.restart_pending = false;
  pid_t old = seat.serving;
  seat.serving = w.pid;
  log::Info("worker ready",
            {{"worker", w.index},
             {"worker_pid", w.pid},
             {"startup_seconds", Seconds(now_ns - w.spawned_ns)},
             {"generation", w.generation}});
  if (old != 0) {
    // A roll step: the replacement serves, so the old worker may go.
    auto it = workers_.find(old);
    if (it != workers_.end())
      DrainWorker(it->second, RetireReason::kRoll, now_ns);
  }
  if (!started_ && std::all_of(seats_.begin(), seats_.end(),
                               [](const Seat& s) { return s.serving != 0; })) {
    started_ = true;
    stable_generation_ = generation_;
    log::Info("all workers ready; serving", {{"workers", config_.workers}});
  }
  UpdateServingState();
}

void Supervisor::DrainWorker(WorkerInfo& w, RetireReason reason,
                             int64_t now_ns) {
  if (w.phase == WorkerInfo::Phase::kDraining) return;
  Seat& seat = seats_[w.index];
  if (seat.serving == w.pid) seat.serving = 0;
  if (seat.starting == w.pid) seat.starting = 0;
  w.phase = WorkerInfo::Phase::kDraining;
  w.drain_started_ns = now_ns;
  w.reason = reason;
  control_.Signal(w.pid, SIGTERM);
  log::Info("draining worker", {{"worker", w.index},
                                {"worker_pid", w.pid},
                                {"reason", RetireReasonName(reason)}});
}

void Supervisor::MurderWorker(WorkerInfo& w, RetireReason reason,
                              std::string_view why) {
  if (w.killed) return;
  w.killed = true;
  if (w.reason == RetireReason::kNone) w.reason = reason;
  control_.Signal(w.pid, SIGKILL);
  log::Error(why, {{"worker", w.index},
                   {"worker_pid", w.pid},
                   {"reason", RetireReasonName(reason)}});
}

void Supervisor::Tick(int64_t now_ns) {
  for (auto& [pid, w] : workers_) {
    const region::WorkerSlot& slot = region_.slot(w.slot);
    auto slot_state = static_cast<region::SlotState>(
        slot.state.load(std::memory_order_acquire));
    switch (w.phase) {
      case WorkerInfo::Phase::kStarting:
        if (slot_state == region::SlotState::kReady) {
          ReadyWorker(w, now_ns);
        } else if (now_ns - w.spawned_ns >
                   ToNanos(config_.worker_start_timeout)) {
          MurderWorker(w, RetireReason::kStartFailed,
                       "worker did not become ready within "
                       "--worker-start-timeout; killed");
        }
        break;
      case WorkerInfo::Phase::kReady: {
        int64_t beat = slot.heartbeat_ns.load(std::memory_order_relaxed);
        if (now_ns - beat > ToNanos(config_.worker_timeout) && !w.killed) {
          log::Error(
              "worker stopped making progress (no heartbeat)",
              {{"worker", w.index},
               {"worker_pid", w.pid},
               {"silent_seconds", Seconds(now_ns - beat)},
               {"serving_path", region::LoadPath(slot)},
               {"in_flight", slot.in_flight.load(std::memory_order_relaxed)}});
          MurderWorker(w, RetireReason::kTimeout,
                       "worker killed after --worker-timeout");
        } else if (w.ready_ns != 0 &&
                   now_ns - w.ready_ns >
                       ToNanos(config_.backoff.stable_after)) {
          seats_[w.index].failures = 0;
        }
        break;
      }
      case WorkerInfo::Phase::kDraining:
        if (now_ns - w.drain_started_ns > ToNanos(config_.drain_timeout)) {
          MurderWorker(w, w.reason,
                       "worker still busy at --drain-timeout; killed");
        }
        break;
    }
  }
  if (shutting_down_ && !drain_begun_ && now_ns >= drain_at_ns_) {
    BeginDrain(now_ns);
  }
  ManageSeats(now_ns);
  AdvanceRoll(now_ns);
  if (shutting_down_ && drain_begun_ && workers_.empty()) {
    state_ = PoolState::kStopped;
  }
}

void Supervisor::ManageSeats(int64_t now_ns) {
  if (shutting_down_) return;
  for (int i = 0; i < static_cast<int>(seats_.size()); ++i) {
    Seat& seat = seats_[i];
    if (seat.serving == 0 && seat.starting == 0 && seat.restart_pending &&
        now_ns >= seat.restart_at_ns) {
      SpawnWorker(i, now_ns, false);
    }
  }
}

bool Supervisor::OnChildExit(pid_t pid, int status, int64_t now_ns) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return false;
  WorkerInfo w = it->second;
  workers_.erase(it);
  epochs_.erase(pid);
  if (slot_retired_) slot_retired_(w.slot);
  region_.Reset(w.slot);
  slot_used_[w.slot] = false;

  Seat& seat = seats_[w.index];
  bool was_serving = seat.serving == pid;
  bool was_starting = seat.starting == pid;
  if (was_serving) seat.serving = 0;
  if (was_starting) seat.starting = 0;

  nlohmann::json fields = {{"worker", w.index},
                           {"worker_pid", pid},
                           {"exit", pid1::DescribeExit(status)},
                           {"phase", WorkerPhaseName(w.phase)},
                           {"generation", w.generation}};
  if (shutting_down_) {
    if (!pid1::ExitedCleanly(status) || w.killed) exit_code_ = 1;
    log::Info("worker exited", fields);
  } else if (w.phase == WorkerInfo::Phase::kDraining && !w.killed) {
    log::Info("worker retired", fields);
  } else if (w.phase == WorkerInfo::Phase::kDraining) {
    log::Warn("worker retired by force", fields);
  } else if (w.replacement && was_starting) {
    // A roll's new worker never came up: the old one keeps serving.
    fields["reason"] = RetireReasonName(w.reason == RetireReason::kNone
                                            ? RetireReason::kStartFailed
                                            : w.reason);
    log::Error("replacement worker failed to start; old worker keeps serving",
               fields);
    ++counts_.restarts["start_failed"];
    if (roll_) {
      FinishRoll(
          now_ns, "failed",
          absl::StrCat("replacement for worker ", w.index, " ",
                       pid1::DescribeExit(status), " before it was ready"));
    }
  } else {
    RetireReason reason = w.reason;
    if (reason == RetireReason::kNone) {
      reason = was_starting ? RetireReason::kStartFailed : RetireReason::kCrash;
    }
    fields["reason"] = RetireReasonName(reason);
    log::Error("worker died unexpectedly", fields);
    ++counts_.restarts[std::string(RetireReasonName(reason))];
    ++seat.failures;
    ScheduleRestart(w.index, now_ns);
  }
  if (w.phase == WorkerInfo::Phase::kDraining &&
      w.reason == RetireReason::kRoll) {
    ++counts_.restarts["roll"];
  }
  UpdateServingState();
  if (shutting_down_ && drain_begun_ && workers_.empty()) {
    state_ = PoolState::kStopped;
  }
  return true;
}

void Supervisor::RequestRoll(int64_t now_ns, std::string reason,
                             std::optional<int64_t> generation) {
  if (shutting_down_) {
    log::Warn("roll requested while shutting down; ignored",
              {{"reason", reason}});
    return;
  }
  if (generation) generation_ = *generation;
  if (!started_) {
    // Workers still coming up will be rolled once they all are ready.
    roll_pending_ = true;
    pending_reason_ = std::move(reason);
    log::Info("roll requested during start-up; it will run once serving");
    return;
  }
  if (roll_) {
    // Restart from the newest state: the half-started replacement goes.
    log::Info("roll requested during a roll; restarting the roll",
              {{"reason", reason}});
    for (auto& [pid, w] : workers_) {
      if (w.replacement && w.phase == WorkerInfo::Phase::kStarting) {
        seats_[w.index].starting = 0;
        DrainWorker(w, RetireReason::kRoll, now_ns);
      }
    }
    FinishRoll(now_ns, "superseded", "");
  }
  roll_ = Roll{generation_, ++epoch_, now_ns, std::move(reason)};
  log::Info("rolling workers one at a time",
            {{"reason", roll_->reason}, {"generation", generation_}});
  UpdateServingState();
  AdvanceRoll(now_ns);
}

void Supervisor::AdvanceRoll(int64_t now_ns) {
  if (roll_pending_ && started_ && !roll_ && !shutting_down_) {
    roll_pending_ = false;
    RequestRoll(now_ns, pending_reason_);
    return;
  }
  if (!roll_ || shutting_down_) return;
  for (const Seat& s : seats_) {
    if (s.starting != 0) return;  // one at a time: a worker is on its way up
  }
  for (int i = 0; i < static_cast<int>(seats_.size()); ++i) {
    const Seat& s = seats_[i];
    if (s.serving == 0)
      continue;  // a crashed seat restarts at the newest epoch
    if (epochs_[s.serving] >= roll_->epoch) continue;
    SpawnWorker(i, now_ns, true);
    return;
  }
  FinishRoll(now_ns, "success", "");
}

void Supervisor::FinishRoll(int64_t now_ns, std::string result,
                            std::string error) {
  if (!roll_) return;
  RollResult r;
  r.result = std::move(result);
  r.reason = roll_->reason;
  r.error = std::move(error);
  r.generation = roll_->generation;
  r.duration = absl::Nanoseconds(now_ns - roll_->started_ns);
  r.finished_unix_ns = region::UnixNanos();
  ++counts_.rollouts[r.result];
  double seconds = absl::ToDoubleSeconds(r.duration);
  size_t bucket = 0;
  while (bucket < kRolloutBounds.size() && seconds > kRolloutBounds[bucket])
    ++bucket;
  ++counts_.rollout_buckets[bucket];
  counts_.rollout_seconds_sum += seconds;
  ++counts_.rollout_count;
  nlohmann::json fields = {{"result", r.result},
                           {"reason", r.reason},
                           {"generation", r.generation},
                           {"seconds", absl::ToDoubleSeconds(r.duration)}};
  if (!r.error.empty()) fields["error"] = r.error;
  if (r.result == "success") stable_generation_ = r.generation;
  if (r.result == "failed") {
    if (generation_ != stable_generation_) {
      fields["serving_generation"] = stable_generation_;
      generation_ = stable_generation_;
    }
    log::Error("roll aborted; the remaining old workers keep serving", fields);
  } else {
    log::Info("roll finished", fields);
  }
  last_roll_ = std::move(r);
  roll_.reset();
  UpdateServingState();
}

void Supervisor::RequestShutdown(int64_t now_ns, bool skip_delay,
                                 std::string reason) {
  if (!shutting_down_) {
    shutting_down_ = true;
    state_ = PoolState::kDraining;
    // Before the pod was ever ready no endpoint points here: nothing to wait
    // for.
    bool wait = !skip_delay && started_;
    drain_at_ns_ = now_ns + (wait ? ToNanos(config_.drain_delay) : 0);
    if (roll_) FinishRoll(now_ns, "aborted", "shutdown");
    log::Info(
        "shutting down: readiness now fails; serving on during the "
        "drain delay",
        {{"signal", reason},
         {"drain_delay_seconds",
          wait ? absl::ToDoubleSeconds(config_.drain_delay) : 0.0},
         {"drain_timeout_seconds",
          absl::ToDoubleSeconds(config_.drain_timeout)}});
    return;
  }
  if (skip_delay && !drain_begun_) {
    log::Info("second shutdown signal: skipping the rest of the drain delay",
              {{"signal", reason}});
    drain_at_ns_ = now_ns;
  }
}

void Supervisor::BeginDrain(int64_t now_ns) {
  drain_begun_ = true;
  log::Info(
      "drain delay over: workers stop accepting and finish in-flight "
      "requests",
      {{"workers", workers_.size()}});
  for (auto& [pid, w] : workers_) {
    DrainWorker(w, RetireReason::kShutdown, now_ns);
  }
  if (workers_.empty()) state_ = PoolState::kStopped;
}

void Supervisor::UpdateServingState() {
  if (shutting_down_) return;
  if (!started_) {
    state_ = PoolState::kStarting;
  } else {
    state_ = roll_ ? PoolState::kRolling : PoolState::kServing;
  }
}

bool Supervisor::Live(std::string* why) const {
  for (size_t i = 0; i < seats_.size(); ++i) {
    if (seats_[i].failures >= config_.crash_loop_limit &&
        seats_[i].serving == 0) {
      *why = absl::StrCat("worker ", i, " failed ", seats_[i].failures,
                          " times in a row");
      return false;
    }
  }
  *why = "ok";
  return true;
}

bool Supervisor::Ready(std::string* why) const {
  if (shutting_down_) {
    *why = "shutting down";
    return false;
  }
  if (!started_) {
    *why = "workers starting";
    return false;
  }
  int serving = 0;
  for (const Seat& s : seats_) serving += s.serving != 0;
  if (serving == 0) {
    *why = "no worker is serving";
    return false;
  }
  *why = "ok";
  return true;
}

bool Supervisor::Started(std::string* why) const {
  if (!started_) {
    int ready = 0;
    for (const Seat& s : seats_) ready += s.serving != 0;
    *why = absl::StrCat(ready, " of ", seats_.size(), " workers ready");
    return false;
  }
  *why = "ok";
  return true;
}

nlohmann::json Supervisor::StatusJson() const {
  nlohmann::json j;
  j["state"] = PoolStateName(state_);
  j["workers_wanted"] = config_.workers;
  j["generation"] = generation_;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [pid, w] : workers_) {
    const region::WorkerSlot& slot = region_.slot(w.slot);
    int64_t beat = slot.heartbeat_ns.load(std::memory_order_relaxed);
    list.push_back({
        {"worker", w.index},
        {"slot", w.slot},
        {"pid", pid},
        {"state", WorkerPhaseName(w.phase)},
        {"generation", w.generation},
        {"started_at", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                        absl::FromUnixNanos(w.started_unix_ns),
                                        absl::UTCTimeZone())},
        {"requests_served",
         slot.requests_total.load(std::memory_order_relaxed)},
        {"in_flight", slot.in_flight.load(std::memory_order_relaxed)},
        {"connections_open",
         slot.connections_open.load(std::memory_order_relaxed)},
        {"heartbeat_age_seconds",
         beat == 0 ? nlohmann::json(nullptr)
                   : nlohmann::json(Seconds(region::MonotonicNanos() - beat))},
    });
  }
  j["workers"] = list;
  if (last_roll_) {
    j["last_roll"] = {
        {"result", last_roll_->result},
        {"reason", last_roll_->reason},
        {"generation", last_roll_->generation},
        {"seconds", absl::ToDoubleSeconds(last_roll_->duration)},
        {"finished_at",
         absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                          absl::FromUnixNanos(last_roll_->finished_unix_ns),
                          absl::UTCTimeZone())}};
    if (!last_roll_->error.empty()) j["last_roll"]["error"] = last_roll_->error;
  } else {
    j["last_roll"] = nullptr;
  }
  return j;
}

}  // namespace corral::master
