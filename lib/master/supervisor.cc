#include "master/supervisor.h"

#include <signal.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "http/drain_pace.h"
#include "log/log.h"
#include "pid1/pid1.h"

namespace corral::master {
namespace {

int64_t ToNanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

Supervisor::Supervisor(SupervisorConfig config, ProcessControl& control,
                       region::SharedRegion& region, const clock::Clock& clock)
    : config_(config),
      control_(control),
      region_(region),
      clock_(clock),
      seats_(static_cast<size_t>(config.workers)),
      slot_used_(static_cast<size_t>(region.slot_count()), true) {
  if (config_.slots.count == 0) config_.slots = {0, region.slot_count()};
  for (int i = config_.slots.first;
       i < config_.slots.first + config_.slots.count && i < region.slot_count();
       ++i) {
    slot_used_[static_cast<size_t>(i)] = false;
  }
}

void Supervisor::Start() {
  log::Info("starting workers", {{"workers", config_.workers},
                                 {"generation", generation_},
                                 {"pool", config_.name}});
  for (int i = 0; i < config_.workers; ++i) SpawnWorker(i, false);
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

void Supervisor::SpawnWorker(int index, bool replacement) {
  const int64_t now = clock_.Now();
  Seat& seat = seats_[index];
  seat.restart_pending = false;
  std::optional<int> slot = TakeSlot();
  if (!slot) {
    // Every slot is held by a draining worker: try again on a later tick.
    log::Warn("no free worker slot; waiting for a draining worker to exit",
              {{"worker", index}});
    seat.restart_pending = true;
    seat.restart_at_ns = now + ToNanos(absl::Milliseconds(100));
    return;
  }
  absl::StatusOr<pid_t> pid = control_.StartWorker(index, *slot, generation_);
  if (!pid.ok()) {
    slot_used_[*slot] = false;
    log::Error("could not start worker",
               {{"worker", index}, {"error", pid.status().ToString()}});
    if (replacement && roll_) {
      FinishRoll(RollResult::kFailed, pid.status().ToString());
    } else {
      ++seat.failures;
      ScheduleRestart(index);
    }
    return;
  }
  WorkerInfo w;
  w.index = index;
  w.slot = *slot;
  w.pid = *pid;
  w.generation = generation_;
  w.epoch = epoch_;
  w.spawned_ns = now;
  w.started_unix_ns = clock_.UnixNow();
  w.replacement = replacement;
  workers_[*pid] = w;
  seat.starting = *pid;
  log::Info("worker started", {{"pool", config_.name},
                               {"worker", index},
                               {"worker_pid", *pid},
                               {"worker_slot", *slot},
                               {"generation", generation_},
                               {"replacement", replacement}});
}

void Supervisor::ScheduleRestart(int index) {
  Seat& seat = seats_[index];
  absl::Duration delay = config_.backoff.Delay(seat.failures);
  seat.restart_pending = true;
  seat.restart_at_ns = clock_.Now() + ToNanos(delay);
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

void Supervisor::ReadyWorker(WorkerInfo& w) {
  const int64_t now = clock_.Now();
  w.phase = WorkerPhase::kReady;
  w.ready_ns = now;
  Seat& seat = seats_[w.index];
  seat.starting = 0;
  seat.restart_pending = false;
  pid_t old = seat.serving;
  seat.serving = w.pid;
  log::Info("worker ready", {{"worker", w.index},
                             {"worker_pid", w.pid},
                             {"startup_seconds", Seconds(now - w.spawned_ns)},
                             {"generation", w.generation}});
  if (old != 0) {
    // A roll or recycle step: the replacement serves, so the old worker
    // may go.
    auto it = workers_.find(old);
    if (it != workers_.end()) DrainWorker(it->second, ReplacedReason(old));
  }
  if (state_ == PoolState::kStarting &&
      std::all_of(seats_.begin(), seats_.end(),
                  [](const Seat& s) { return s.serving != 0; })) {
    state_ = PoolState::kServing;
    stable_generation_ = generation_;
    log::Info("all workers ready; serving", {{"workers", config_.workers}});
    if (pending_roll_) {
      std::string reason = std::move(*pending_roll_);
      pending_roll_.reset();
      BeginRoll(std::move(reason));
    }
  }
}

void Supervisor::DrainWorker(WorkerInfo& w, RetireReason reason) {
  if (w.phase == WorkerPhase::kDraining) return;
  Seat& seat = seats_[w.index];
  if (seat.serving == w.pid) seat.serving = 0;
  if (seat.starting == w.pid) seat.starting = 0;
  w.phase = WorkerPhase::kDraining;
  w.drain_started_ns = clock_.Now();
  w.reason = reason;
  control_.Signal(w.pid, SIGTERM);
  log::Info("draining worker", {{"worker", w.index},
                                {"worker_pid", w.pid},
                                {"reason", pool::Name(reason)}});
}

void Supervisor::MurderWorker(WorkerInfo& w, RetireReason reason,
                              std::string_view why) {
  if (w.killed) return;
  w.killed = true;
  if (w.reason == RetireReason::kNone) w.reason = reason;
  control_.Signal(w.pid, SIGKILL);
  log::Error(why, {{"worker", w.index},
                   {"worker_pid", w.pid},
                   {"reason", pool::Name(reason)}});
}

void Supervisor::Tick() {
  for (auto& [pid, w] : workers_) CheckWorker(w);
  if (state_ == PoolState::kDrainDelay && clock_.Now() >= drain_at_ns_) {
    BeginDrain();
  }
  ManageSeats();
  AdvanceRoll();
  ApplyResize();
  AdvanceRecycle();
  StopIfEmpty();
}

// One worker's deadlines: start-up, heartbeat, drain.
void Supervisor::CheckWorker(WorkerInfo& w) {
  const int64_t now = clock_.Now();
  const region::WorkerSlot& slot = region_.slot(w.slot);
  switch (w.phase) {
    case WorkerPhase::kStarting:
      if (static_cast<region::SlotState>(slot.state.load(
              std::memory_order_acquire)) == region::SlotState::kReady) {
        ReadyWorker(w);
      } else if (now - w.spawned_ns > ToNanos(config_.worker_start_timeout)) {
        MurderWorker(w, RetireReason::kStartFailed,
                     "worker did not become ready within "
                     "--worker-start-timeout; killed");
      }
      break;
    case WorkerPhase::kReady: {
      int64_t beat = slot.heartbeat_ns.load(std::memory_order_relaxed);
      if (w.hang_noticed_ns != 0 ||
          (now - beat > ToNanos(config_.worker_timeout) && !w.killed)) {
        CheckHeartbeat(w);
      } else if (w.ready_ns != 0 &&
                 now - w.ready_ns > ToNanos(config_.backoff.stable_after)) {
        seats_[w.index].failures = 0;
      }
      break;
    }
    case WorkerPhase::kDraining:
      if (now - w.drain_started_ns > ToNanos(config_.drain_timeout)) {
        MurderWorker(w, w.reason,
                     "worker still busy at --drain-timeout; killed");
      }
      break;
  }
}

void Supervisor::ManageSeats() {
  if (ShuttingDown()) return;
  const int64_t now = clock_.Now();
  for (int i = 0; i < static_cast<int>(seats_.size()); ++i) {
    Seat& seat = seats_[i];
    if (seat.serving == 0 && seat.starting == 0 && seat.restart_pending &&
        now >= seat.restart_at_ns) {
      SpawnWorker(i, false);
    }
  }
}

bool Supervisor::OnChildExit(pid_t pid, int status) {
  auto it = workers_.find(pid);
  if (it == workers_.end()) return false;
  WorkerInfo w = it->second;
  workers_.erase(it);
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
                           {"phase", pool::Name(w.phase)},
                           {"generation", w.generation}};
  // The kernel's OOM killer, never a plain crash: its figures and reason.
  std::optional<nlohmann::json> oom = OomKill(w, status);
  if (oom) {
    fields["reason"] = pool::Name(RetireReason::kOom);
    fields["memory"] = *oom;
    log::Error("worker killed by the kernel's OOM killer", fields);
    ++counts_.restarts[static_cast<size_t>(RetireReason::kOom)];
  }
  if (ShuttingDown()) {
    if (!control_.StoppedCleanly(status) || w.killed) exit_code_ = 1;
    log::Info("worker exited", fields);
  } else if (w.phase == WorkerPhase::kDraining && !w.killed) {
    if (!oom) log::Info("worker retired", fields);
  } else if (w.phase == WorkerPhase::kDraining) {
    log::Warn("worker retired by force", fields);
  } else if (w.replacement && was_starting) {
    // A roll's new worker never came up: the old one keeps serving.
    fields["reason"] =
        pool::Name(w.reason == RetireReason::kNone ? RetireReason::kStartFailed
                                                   : w.reason);
    log::Error("replacement worker failed to start; old worker keeps serving",
               fields);
    if (!oom) {
      ++counts_.restarts[static_cast<size_t>(RetireReason::kStartFailed)];
    }
    if (roll_) {
      FinishRoll(
          RollResult::kFailed,
          absl::StrCat("replacement for worker ", w.index, " ",
                       pid1::DescribeExit(status), " before it was ready"));
    }
  } else {
    RetireReason reason = w.reason;
    if (reason == RetireReason::kNone) {
      reason = was_starting ? RetireReason::kStartFailed : RetireReason::kCrash;
    }
    if (!oom) {
      fields["reason"] = pool::Name(reason);
      log::Error("worker died unexpectedly", fields);
      ++counts_.restarts[static_cast<size_t>(reason)];
    }
    ++seat.failures;
    ScheduleRestart(w.index);
  }
  // A worker drained to be replaced counts once, by why it was replaced.
  if (w.phase == WorkerPhase::kDraining && !oom &&
      w.reason != RetireReason::kShutdown && w.reason != RetireReason::kNone) {
    ++counts_.restarts[static_cast<size_t>(w.reason)];
  }
  RecycleExited(w, w.replacement && was_starting);
  StopIfEmpty();
  return true;
}

void Supervisor::RequestRoll(std::string reason,
                             std::optional<int64_t> generation) {
  if (ShuttingDown()) {
    log::Warn("roll requested while shutting down; ignored",
              {{"reason", reason}});
    return;
  }
  if (generation) generation_ = *generation;
  if (state_ == PoolState::kStarting) {
    // Workers still coming up will be rolled once they all are ready.
    pending_roll_ = std::move(reason);
    log::Info("roll requested during start-up; it will run once serving");
    return;
  }
  if (state_ == PoolState::kRolling) {
    // Restart from the newest state: the half-started replacement goes.
    log::Info("roll requested during a roll; restarting the roll",
              {{"reason", reason}});
    for (auto& [pid, w] : workers_) {
      if (w.replacement && w.phase == WorkerPhase::kStarting) {
        seats_[w.index].starting = 0;
        DrainWorker(w, RetireReason::kRoll);
      }
    }
    FinishRoll(RollResult::kSuperseded, "");
  }
  DropRecycleRequests("a roll replaces every worker");
  BeginRoll(std::move(reason));
}

void Supervisor::BeginRoll(std::string reason) {
  roll_ = Roll{generation_, ++epoch_, clock_.Now(), std::move(reason)};
  state_ = PoolState::kRolling;
  log::Info("rolling workers one at a time",
            {{"reason", roll_->reason}, {"generation", generation_}});
  AdvanceRoll();
}

void Supervisor::AdvanceRoll() {
  if (state_ != PoolState::kRolling) return;
  for (const Seat& s : seats_) {
    if (s.starting != 0) return;  // one at a time: a worker is on its way up
  }
  if (RollStepClosing()) return;
  for (int i = 0; i < static_cast<int>(seats_.size()); ++i) {
    const Seat& s = seats_[i];
    // A crashed seat restarts at the newest epoch by itself.
    if (s.serving == 0) continue;
    if (workers_.at(s.serving).epoch >= roll_->epoch) continue;
    SpawnWorker(i, true);
    return;
  }
  FinishRoll(RollResult::kSuccess, "");
}

// Whether a worker a roll drained is still handing back its keep-alive
// connections (more open than in flight), within the longest a paced drain
// spreads its closes over (http/drain_pace.h: half the drain timeout). The next
// step waits: two drains at once double the reconnects the siblings take, and
// at 28,000 connections that showed in every client's latency. Workers that
// count no connections (an app's own, in socket mode) never hold a roll up.
bool Supervisor::RollStepClosing() const {
  const int64_t now = clock_.Now();
  const int64_t spread =
      std::chrono::nanoseconds(http::MaxDrainSpread(absl::ToChronoMilliseconds(
                                   config_.drain_timeout)))
          .count();
  for (const auto& [pid, w] : workers_) {
    if (w.phase != WorkerPhase::kDraining || w.reason != RetireReason::kRoll ||
        now - w.drain_started_ns >= spread) {
      continue;
    }
    const region::WorkerSlot& slot = region_.slot(w.slot);
    const int64_t open = static_cast<int64_t>(
        slot.connections_open.load(std::memory_order_relaxed));
    if (open >
        std::max<int64_t>(0, slot.in_flight.load(std::memory_order_relaxed))) {
      return true;
    }
  }
  return false;
}

void Supervisor::FinishRoll(RollResult result, std::string error) {
  if (!roll_) return;
  RollRecord r;
  r.result = result;
  r.reason = roll_->reason;
  r.error = std::move(error);
  r.generation = roll_->generation;
  r.duration = absl::Nanoseconds(clock_.Now() - roll_->started_ns);
  r.finished_unix_ns = clock_.UnixNow();
  ++counts_.rollouts[static_cast<size_t>(result)];
  double seconds = absl::ToDoubleSeconds(r.duration);
  size_t bucket = 0;
  while (bucket < pool::kRolloutBounds.size() &&
         seconds > pool::kRolloutBounds[bucket]) {
    ++bucket;
  }
  ++counts_.rollout_buckets[bucket];
  counts_.rollout_seconds_sum += seconds;
  nlohmann::json fields = {{"result", pool::Name(result)},
                           {"reason", r.reason},
                           {"generation", r.generation},
                           {"seconds", seconds}};
  if (!r.error.empty()) fields["error"] = r.error;
  if (result == RollResult::kSuccess) stable_generation_ = r.generation;
  if (result == RollResult::kFailed) {
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
  if (state_ == PoolState::kRolling) state_ = PoolState::kServing;
}

void Supervisor::RequestShutdown(Shutdown how, std::string reason) {
  const int64_t now = clock_.Now();
  if (state_ == PoolState::kDrainDelay) {
    // A second request means "hurry".
    log::Info("second shutdown signal: skipping the rest of the drain delay",
              {{"signal", reason}});
    drain_at_ns_ = now;
    return;
  }
  if (ShuttingDown()) return;
  // Before the pod was ever ready no endpoint points here: nothing to wait
  // for.
  bool wait = how == Shutdown::kGraceful && state_ != PoolState::kStarting;
  if (roll_) FinishRoll(RollResult::kAborted, "shutdown");
  DropRecycleRequests("shutting down");
  state_ = PoolState::kDrainDelay;
  drain_at_ns_ = now + (wait ? ToNanos(config_.drain_delay) : 0);
  log::Info(config_.ready_through_drain_delay
                ? "shutting down: readiness stays up and workers serve on "
                  "through the drain delay"
                : "shutting down: readiness now fails; serving on during the "
                  "drain delay",
            {{"signal", reason},
             {"drain_delay_seconds",
              wait ? absl::ToDoubleSeconds(config_.drain_delay) : 0.0},
             {"drain_timeout_seconds",
              absl::ToDoubleSeconds(config_.drain_timeout)}});
}

void Supervisor::BeginDrain() {
  state_ = PoolState::kDraining;
  log::Info(
      "drain delay over: workers stop accepting and finish in-flight "
      "requests",
      {{"workers", workers_.size()}});
  for (auto& [pid, w] : workers_) DrainWorker(w, RetireReason::kShutdown);
  StopIfEmpty();
}

void Supervisor::StopIfEmpty() {
  if (state_ == PoolState::kDraining && workers_.empty()) {
    state_ = PoolState::kStopped;
  }
}

std::set<int64_t> Supervisor::GenerationsInUse() const {
  std::set<int64_t> in_use = {generation_, stable_generation_};
  for (const auto& [pid, w] : workers_) in_use.insert(w.generation);
  return in_use;
}

pool::ProbeResult Supervisor::Live() const {
  for (size_t i = 0; i < seats_.size(); ++i) {
    if (seats_[i].failures >= config_.crash_loop_limit &&
        seats_[i].serving == 0) {
      return {false, absl::StrCat("worker ", i, " failed ", seats_[i].failures,
                                  " times in a row")};
    }
  }
  return {true, "ok"};
}

pool::ProbeResult Supervisor::Ready() const {
  if (state_ == PoolState::kDrainDelay && config_.ready_through_drain_delay) {
    return {true, "shutting down: serving through the drain delay"};
  }
  if (ShuttingDown()) return {false, "shutting down"};
  if (state_ == PoolState::kStarting) return {false, "workers starting"};
  for (const Seat& s : seats_) {
    if (s.serving != 0) return {true, "ok"};
  }
  return {false, "no worker is serving"};
}

pool::ProbeResult Supervisor::Started() const {
  if (state_ != PoolState::kStarting) return {true, "ok"};
  int ready = 0;
  for (const Seat& s : seats_) ready += s.serving != 0;
  return {false, absl::StrCat(ready, " of ", seats_.size(), " workers ready")};
}

std::vector<pool::WorkerView> Supervisor::Workers() const {
  std::vector<pool::WorkerView> out;
  out.reserve(workers_.size());
  for (const auto& [pid, w] : workers_) {
    out.push_back({w.index, w.slot, pid, w.phase});
  }
  return out;
}

nlohmann::json Supervisor::StatusJson() const {
  nlohmann::json j;
  j["state"] = pool::Name(state_);
  j["workers_wanted"] = config_.workers;
  if (pending_resize_) {
    j["resize_pending"] = {{"workers", pending_resize_->workers},
                           {"reason", pending_resize_->reason}};
  }
  j["generation"] = generation_;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [pid, w] : workers_) {
    const region::WorkerSlot& slot = region_.slot(w.slot);
    int64_t beat = slot.heartbeat_ns.load(std::memory_order_relaxed);
    list.push_back({
        {"worker", w.index},
        {"slot", w.slot},
        {"pid", pid},
        {"state", pool::Name(w.phase)},
        {"generation", w.generation},
        {"started_at", clock::IsoTime(w.started_unix_ns)},
        {"requests_served",
         slot.requests_total.load(std::memory_order_relaxed)},
        {"in_flight", slot.in_flight.load(std::memory_order_relaxed)},
        {"connections_open",
         slot.connections_open.load(std::memory_order_relaxed)},
        {"recycle_requested",
         slot.recycle_requested.load(std::memory_order_relaxed) != 0},
        {"heartbeat_age_seconds",
         beat == 0 ? nlohmann::json(nullptr)
                   : nlohmann::json(Seconds(clock_.Now() - beat))},
    });
  }
  j["workers"] = list;
  j["recycle"] = RecycleJson();
  if (last_roll_) {
    j["last_roll"] = {
        {"result", pool::Name(last_roll_->result)},
        {"reason", last_roll_->reason},
        {"generation", last_roll_->generation},
        {"seconds", absl::ToDoubleSeconds(last_roll_->duration)},
        {"finished_at", clock::IsoTime(last_roll_->finished_unix_ns)}};
    if (!last_roll_->error.empty()) j["last_roll"]["error"] = last_roll_->error;
  } else {
    j["last_roll"] = nullptr;
  }
  return j;
}

}  // namespace corral::master
