#include "master/supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>

namespace corral::master {
namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kSec = 1000 * kMs;

// Status values as waitpid reports them.
int Exited(int code) { return (code & 0xff) << 8; }
int Killed(int sig) { return sig & 0x7f; }

class FakeProcesses : public ProcessControl {
 public:
  absl::StatusOr<pid_t> StartWorker(int index, int slot, int64_t gen) override {
    if (fail_next_start) {
      fail_next_start = false;
      return absl::ResourceExhaustedError("fork: no");
    }
    pid_t pid = next_pid++;
    started.push_back({pid, index, slot, gen});
    return pid;
  }
  void Signal(pid_t pid, int sig) override { signals.emplace_back(pid, sig); }

  struct Started {
    pid_t pid;
    int index;
    int slot;
    int64_t generation;
  };
  std::vector<Started> started;
  std::vector<std::pair<pid_t, int>> signals;
  pid_t next_pid = 100;
  bool fail_next_start = false;
};

// Time as the test sets it.
class FakeClock : public clock::Clock {
 public:
  explicit FakeClock(const int64_t* now) : now_(now) {}
  int64_t Now() const override { return *now_; }
  int64_t UnixNow() const override { return *now_; }

 private:
  const int64_t* now_;
};

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() : region_(std::move(*region::SharedRegion::Create(16))) {}

  Supervisor& Make(int workers) {
    config_.workers = workers;
    config_.drain_delay = absl::Seconds(5);
    config_.drain_timeout = absl::Seconds(20);
    config_.worker_start_timeout = absl::Seconds(10);
    config_.worker_timeout = absl::Seconds(30);
    config_.crash_loop_limit = 3;
    sup_.emplace(config_, procs_, region_, clock_);
    return *sup_;
  }

  // The worker in `pid` reports ready through its slot, as a real one does.
  void MarkReady(pid_t pid) {
    const WorkerInfo& w = sup_->workers().at(pid);
    region_.slot(w.slot).heartbeat_ns = now_;
    region_.slot(w.slot).state =
        static_cast<uint32_t>(region::SlotState::kReady);
  }
  void Beat() {
    for (const auto& [pid, w] : sup_->workers())
      region_.slot(w.slot).heartbeat_ns = now_;
  }
  void Advance(int64_t ns) {
    now_ += ns;
    Beat();
    sup_->Tick();
  }
  int CountPhase(WorkerPhase phase) const {
    int n = 0;
    for (const auto& [pid, w] : sup_->workers()) n += w.phase == phase;
    return n;
  }
  bool Signalled(pid_t pid, int sig) const {
    for (const auto& s : procs_.signals) {
      if (s.first == pid && s.second == sig) return true;
    }
    return false;
  }
  void StartAll(int workers) {
    Make(workers);
    sup_->Start();
    for (const auto& s : procs_.started) MarkReady(s.pid);
    Advance(50 * kMs);
  }

  // Two workers, the first holding 14,000 connections; a roll's first step
  // is done: its replacement is ready and worker 100 told to drain.
  void RollFirstStepOfTwoWith14000Connections() {
    StartAll(2);
    region_.slot(sup_->workers().at(100).slot).connections_open = 14000;
    sup_->RequestRoll("SIGHUP");
    MarkReady(procs_.started.back().pid);
    Advance(50 * kMs);
    ASSERT_TRUE(Signalled(100, SIGTERM));
  }

  int64_t now_ = 1000 * kSec;
  FakeClock clock_{&now_};
  SupervisorConfig config_;
  FakeProcesses procs_;
  region::SharedRegion region_;
  std::optional<Supervisor> sup_;
};

TEST_F(SupervisorTest, StartsOneWorkerPerSeatAndTurnsReady) {
  Supervisor& s = Make(3);
  s.Start();
  ASSERT_EQ(procs_.started.size(), 3u);
  EXPECT_FALSE(s.Ready().ok);
  EXPECT_FALSE(s.Started().ok);
  EXPECT_EQ(s.Started().why, "0 of 3 workers ready");
  MarkReady(procs_.started[0].pid);
  MarkReady(procs_.started[1].pid);
  Advance(50 * kMs);
  EXPECT_FALSE(s.Started().ok);
  EXPECT_EQ(s.Started().why, "2 of 3 workers ready");
  MarkReady(procs_.started[2].pid);
  Advance(50 * kMs);
  EXPECT_TRUE(s.Started().ok);
  EXPECT_TRUE(s.Ready().ok);
  EXPECT_TRUE(s.Live().ok);
  EXPECT_EQ(s.state(), PoolState::kServing);
  // Every worker got its own slot.
  std::set<int> slots;
  for (const auto& st : procs_.started) slots.insert(st.slot);
  EXPECT_EQ(slots.size(), 3u);
}

TEST_F(SupervisorTest, CrashedWorkerIsReplacedAtOnceThenWithBackoff) {
  StartAll(2);
  pid_t victim = procs_.started[0].pid;
  ASSERT_TRUE(sup_->OnChildExit(victim, Killed(SIGKILL)));
  Advance(1 * kMs);
  ASSERT_EQ(procs_.started.size(), 3u) << "first restart is immediate";
  EXPECT_EQ(procs_.started[2].index, 0);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kCrash), 1u);

  // It dies again while starting: the next start waits for the backoff.
  ASSERT_TRUE(sup_->OnChildExit(procs_.started[2].pid, Exited(1)));
  Advance(100 * kMs);
  EXPECT_EQ(procs_.started.size(), 3u);
  Advance(500 * kMs);
  EXPECT_EQ(procs_.started.size(), 4u);
  EXPECT_TRUE(sup_->Live().ok);
  EXPECT_TRUE(sup_->Ready().ok) << "one worker still serves";
}

TEST_F(SupervisorTest, CrashLoopFailsLivenessAndRecoveryResetsIt) {
  StartAll(1);
  for (int i = 0; i < 3; ++i) {
    pid_t pid = procs_.started.back().pid;
    ASSERT_TRUE(sup_->OnChildExit(pid, Exited(1)));
    Advance(60 * kSec);  // past any backoff
  }
  EXPECT_FALSE(sup_->Live().ok);
  EXPECT_THAT(sup_->Live().why, ::testing::HasSubstr("failed 3 times"));
  // The latest start comes up and stays up: liveness recovers.
  MarkReady(procs_.started.back().pid);
  Advance(50 * kMs);
  EXPECT_TRUE(sup_->Live().ok);
  Advance(11 * kSec);
  pid_t pid = procs_.started.back().pid;
  ASSERT_TRUE(sup_->OnChildExit(pid, Killed(SIGSEGV)));
  Advance(1 * kMs);
  EXPECT_EQ(procs_.started.back().index, 0);
  EXPECT_NE(procs_.started.back().pid, pid)
      << "restarted at once: count was reset";
}

TEST_F(SupervisorTest, RollReplacesOneAtATimeKeepingCapacity) {
  StartAll(3);
  sup_->RequestRoll("SIGHUP");
  EXPECT_EQ(sup_->state(), PoolState::kRolling);
  std::set<pid_t> old_pids = {100, 101, 102};
  for (int step = 0; step < 3; ++step) {
    ASSERT_EQ(procs_.started.size(), 4u + step);
    EXPECT_EQ(CountPhase(WorkerPhase::kStarting), 1) << "one at a time";
    EXPECT_GE(CountPhase(WorkerPhase::kReady), 3) << "capacity kept";
    pid_t fresh = procs_.started.back().pid;
    pid_t old = 100 + procs_.started.back().index;
    MarkReady(fresh);
    Advance(50 * kMs);
    // The old worker of that seat is told to drain.
    EXPECT_TRUE(Signalled(old, SIGTERM)) << "step " << step;
    ASSERT_TRUE(sup_->OnChildExit(old, Exited(0)));
    Advance(50 * kMs);
  }
  EXPECT_EQ(sup_->state(), PoolState::kServing);
  ASSERT_TRUE(sup_->last_roll().has_value());
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kSuccess);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kRoll), 3u);
  for (const auto& [pid, w] : sup_->workers())
    EXPECT_FALSE(old_pids.count(pid));
  EXPECT_TRUE(sup_->Ready().ok);
}

TEST_F(SupervisorTest,
       RollStepWaitsForTheDrainedWorkerToHandBackItsConnections) {
  ASSERT_NO_FATAL_FAILURE(RollFirstStepOfTwoWith14000Connections());
  // Its connections are still being told to close: seat 1 waits.
  region::WorkerSlot& draining = region_.slot(sup_->workers().at(100).slot);
  draining.in_flight = 3;
  Advance(500 * kMs);
  EXPECT_EQ(procs_.started.size(), 3u) << "one drain's reconnects at a time";
  // Only its requests in flight are left: the next step goes.
  draining.connections_open = 3;
  Advance(50 * kMs);
  ASSERT_EQ(procs_.started.size(), 4u);
  EXPECT_EQ(procs_.started.back().index, 1);
}

TEST_F(SupervisorTest, RollStepWaitsNoLongerThanADrainSpread) {
  ASSERT_NO_FATAL_FAILURE(RollFirstStepOfTwoWith14000Connections());
  Advance(9900 * kMs);  // half the 20 s drain timeout, less a tick
  EXPECT_EQ(procs_.started.size(), 3u);
  Advance(100 * kMs);
  EXPECT_EQ(procs_.started.size(), 4u) << "clients that never close do not "
                                          "hold the roll past the spread";
}

TEST_F(SupervisorTest, ReplacementThatDiesAbortsTheRoll) {
  StartAll(2);
  sup_->RequestRoll("SIGHUP");
  pid_t fresh = procs_.started.back().pid;
  ASSERT_TRUE(sup_->OnChildExit(fresh, Exited(78)));
  Advance(50 * kMs);
  ASSERT_TRUE(sup_->last_roll().has_value());
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kFailed);
  EXPECT_EQ(sup_->state(), PoolState::kServing);
  EXPECT_EQ(CountPhase(WorkerPhase::kReady), 2);
  EXPECT_TRUE(procs_.signals.empty()) << "no old worker was touched";
  EXPECT_EQ(procs_.started.size(), 3u) << "no retry loop";
}

TEST_F(SupervisorTest, ReplacementThatNeverGetsReadyIsKilledAndRollAborts) {
  StartAll(2);
  sup_->RequestRoll("SIGHUP");
  pid_t fresh = procs_.started.back().pid;
  Advance(11 * kSec);
  EXPECT_TRUE(Signalled(fresh, SIGKILL));
  ASSERT_TRUE(sup_->OnChildExit(fresh, Killed(SIGKILL)));
  ASSERT_TRUE(sup_->last_roll().has_value());
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kFailed);
  EXPECT_EQ(CountPhase(WorkerPhase::kReady), 2);
}

TEST_F(SupervisorTest, RollDuringRollRestartsFromTheNewest) {
  StartAll(2);
  sup_->RequestRoll("first");
  pid_t first = procs_.started.back().pid;
  sup_->RequestRoll("second", 7);
  EXPECT_TRUE(Signalled(first, SIGTERM)) << "the half-started one goes";
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kSuperseded);
  pid_t second = procs_.started.back().pid;
  ASSERT_NE(second, first);
  EXPECT_EQ(procs_.started.back().generation, 7);
  ASSERT_TRUE(sup_->OnChildExit(first, Killed(SIGTERM)));
  EXPECT_EQ(CountPhase(WorkerPhase::kStarting), 1);
  MarkReady(second);
  Advance(50 * kMs);
  MarkReady(procs_.started.back().pid);
  Advance(50 * kMs);
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kSuccess);
  EXPECT_EQ(sup_->last_roll()->generation, 7);
  for (const auto& [pid, w] : sup_->workers()) {
    if (w.phase == WorkerPhase::kReady) {
      EXPECT_EQ(w.generation, 7);
    }
  }
}

TEST_F(SupervisorTest, HungWorkerIsKilledAndReplaced) {
  StartAll(2);
  pid_t hung = procs_.started[0].pid;
  const WorkerInfo& w = sup_->workers().at(hung);
  int64_t frozen = now_;
  for (int i = 0; i < 40; ++i) {
    now_ += kSec;
    for (const auto& [pid, info] : sup_->workers()) {
      region_.slot(info.slot).heartbeat_ns = pid == hung ? frozen : now_;
    }
    sup_->Tick();
  }
  (void)w;
  EXPECT_TRUE(Signalled(hung, SIGKILL));
  EXPECT_FALSE(Signalled(procs_.started[1].pid, SIGKILL));
  ASSERT_TRUE(sup_->OnChildExit(hung, Killed(SIGKILL)));
  Advance(1 * kMs);
  EXPECT_EQ(procs_.started.back().index, 0);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kTimeout), 1u);
}

TEST_F(SupervisorTest, ShutdownWaitsTheDelayThenDrainsAndExitsZero) {
  StartAll(2);
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  EXPECT_FALSE(sup_->Ready().ok);
  EXPECT_EQ(sup_->state(), PoolState::kDrainDelay);
  Advance(4 * kSec);
  EXPECT_TRUE(procs_.signals.empty()) << "still serving during the delay";
  Advance(1100 * kMs);
  EXPECT_TRUE(Signalled(100, SIGTERM));
  EXPECT_TRUE(Signalled(101, SIGTERM));
  EXPECT_FALSE(sup_->Finished());
  ASSERT_TRUE(sup_->OnChildExit(100, Exited(0)));
  ASSERT_TRUE(sup_->OnChildExit(101, Exited(0)));
  EXPECT_TRUE(sup_->Finished());
  EXPECT_EQ(sup_->ExitCode(), 0);
  EXPECT_EQ(procs_.started.size(), 2u) << "nothing restarted during shutdown";
}

TEST_F(SupervisorTest, SecondSignalSkipsTheDelay) {
  StartAll(1);
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  Advance(1 * kSec);
  EXPECT_TRUE(procs_.signals.empty());
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  Advance(1 * kMs);
  EXPECT_TRUE(Signalled(100, SIGTERM));
}

TEST_F(SupervisorTest, QuitSkipsTheDelayAtOnce) {
  StartAll(1);
  sup_->RequestShutdown(Shutdown::kSkipDelay, "QUIT");
  Advance(1 * kMs);
  EXPECT_TRUE(Signalled(100, SIGTERM));
  EXPECT_EQ(sup_->state(), PoolState::kDraining);
}

TEST_F(SupervisorTest, ShutdownBeforeEverReadySkipsTheDelay) {
  Make(1);
  sup_->Start();
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  Advance(1 * kMs);
  EXPECT_TRUE(Signalled(100, SIGTERM)) << "no endpoint ever pointed here";
}

TEST_F(SupervisorTest, SignalsAfterTheDelayChangeNothing) {
  StartAll(1);
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  Advance(6 * kSec);
  ASSERT_EQ(sup_->state(), PoolState::kDraining);
  size_t signals = procs_.signals.size();
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  sup_->RequestShutdown(Shutdown::kSkipDelay, "QUIT");
  sup_->RequestRoll("SIGHUP");
  Advance(1 * kMs);
  EXPECT_EQ(procs_.signals.size(), signals);
  EXPECT_EQ(sup_->state(), PoolState::kDraining);
  ASSERT_TRUE(sup_->OnChildExit(100, Exited(0)));
  EXPECT_EQ(sup_->state(), PoolState::kStopped);
}

TEST_F(SupervisorTest, ShutdownDuringARollAbortsIt) {
  StartAll(2);
  sup_->RequestRoll("SIGHUP");
  ASSERT_EQ(sup_->state(), PoolState::kRolling);
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  EXPECT_EQ(sup_->state(), PoolState::kDrainDelay);
  ASSERT_TRUE(sup_->last_roll().has_value());
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kAborted);
  EXPECT_EQ(sup_->counts().rollouts_for(RollResult::kAborted), 1u);
}

TEST_F(SupervisorTest, RollAskedForDuringStartUpRunsOnceServing) {
  Make(1);
  sup_->Start();
  sup_->RequestRoll("SIGHUP");
  EXPECT_EQ(sup_->state(), PoolState::kStarting);
  MarkReady(100);
  Advance(50 * kMs);
  EXPECT_EQ(sup_->state(), PoolState::kRolling);
  EXPECT_EQ(procs_.started.size(), 2u);
}

TEST_F(SupervisorTest, GenerationsInUseCoverWorkersTargetAndFallback) {
  StartAll(2);
  sup_->RequestRoll("config generation 2", 2);
  EXPECT_EQ(sup_->GenerationsInUse(), (std::set<int64_t>{1, 2}));
  pid_t fresh = procs_.started.back().pid;
  MarkReady(fresh);
  Advance(50 * kMs);
  sup_->RequestRoll("config generation 3", 3);
  // Generation 2 is still run by the worker the first roll step started.
  EXPECT_EQ(sup_->GenerationsInUse(), (std::set<int64_t>{1, 2, 3}));
}

TEST_F(SupervisorTest, StragglerIsKilledAtDrainTimeoutAndExitCodeSaysSo) {
  StartAll(2);
  sup_->RequestShutdown(Shutdown::kSkipDelay, "QUIT");
  Advance(1 * kMs);
  ASSERT_TRUE(sup_->OnChildExit(100, Exited(0)));
  Advance(21 * kSec);
  EXPECT_TRUE(Signalled(101, SIGKILL));
  ASSERT_TRUE(sup_->OnChildExit(101, Killed(SIGKILL)));
  EXPECT_TRUE(sup_->Finished());
  EXPECT_EQ(sup_->ExitCode(), 1);
}

TEST_F(SupervisorTest, OrphansAreNotWorkers) {
  StartAll(1);
  EXPECT_FALSE(sup_->OnChildExit(4242, Exited(0)));
  EXPECT_EQ(sup_->workers().size(), 1u);
}

TEST_F(SupervisorTest, RetiredSlotIsReportedBeforeReuse) {
  StartAll(1);
  std::vector<int> retired;
  sup_->OnSlotRetired([&](int slot) { retired.push_back(slot); });
  int slot = sup_->workers().at(100).slot;
  ASSERT_TRUE(sup_->OnChildExit(100, Killed(SIGKILL)));
  EXPECT_EQ(retired, std::vector<int>{slot});
}

TEST_F(SupervisorTest, ForkFailureIsRetried) {
  Make(1);
  procs_.fail_next_start = true;
  sup_->Start();
  EXPECT_TRUE(procs_.started.empty());
  Advance(1 * kMs);
  EXPECT_EQ(procs_.started.size(), 1u);
}

namespace corral::master {
namespace {

TEST_F(SupervisorTest, FailedRollFallsBackToTheServingGeneration) {
  StartAll(2);
  sup_->RequestRoll("config generation 2", 2);
  EXPECT_EQ(sup_->generation(), 2);
  pid_t fresh = procs_.started.back().pid;
  EXPECT_EQ(procs_.started.back().generation, 2);
  ASSERT_TRUE(sup_->OnChildExit(fresh, Exited(78)));
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kFailed);
  EXPECT_EQ(sup_->generation(), 1)
      << "crash restarts use a config known to start";
  // A serving worker crashes: its replacement runs generation 1.
  ASSERT_TRUE(sup_->OnChildExit(100, Killed(SIGSEGV)));
  Advance(1 * kMs);
  EXPECT_EQ(procs_.started.back().generation, 1);
}

}  // namespace
}  // namespace corral::master

// Resize (lib/master/resize.cc): the worker count following the pod's CPUs.
namespace corral::master {
namespace {

TEST_F(SupervisorTest, ResizeUpStartsTheNewWorkersAtOnce) {
  StartAll(2);
  sup_->Resize(4, "cpu.max now 4 CPUs");
  EXPECT_EQ(sup_->workers_wanted(), 4);
  ASSERT_EQ(procs_.started.size(), 4u);
  EXPECT_EQ(procs_.started[2].index, 2);
  EXPECT_EQ(procs_.started[3].index, 3);
  EXPECT_TRUE(procs_.signals.empty()) << "no serving worker disturbed";
  EXPECT_TRUE(sup_->Ready().ok);
  MarkReady(procs_.started[2].pid);
  MarkReady(procs_.started[3].pid);
  Advance(50 * kMs);
  EXPECT_EQ(CountPhase(WorkerPhase::kReady), 4);
  EXPECT_EQ(sup_->StatusJson()["workers_wanted"], 4);
}

TEST_F(SupervisorTest, ResizeDownDrainsTheSurplusOneAtATime) {
  StartAll(4);
  sup_->Resize(2, "cpu.max now 2 CPUs");
  EXPECT_EQ(sup_->workers_wanted(), 2);
  // The last seat first; the next only once it has gone.
  EXPECT_TRUE(Signalled(103, SIGTERM));
  EXPECT_FALSE(Signalled(102, SIGTERM));
  Advance(1 * kSec);
  EXPECT_FALSE(Signalled(102, SIGTERM));
  EXPECT_EQ(sup_->workers().at(103).reason, RetireReason::kResize);
  ASSERT_TRUE(sup_->OnChildExit(103, Exited(0)));
  Advance(50 * kMs);
  EXPECT_TRUE(Signalled(102, SIGTERM));
  ASSERT_TRUE(sup_->OnChildExit(102, Exited(0)));
  Advance(50 * kMs);
  EXPECT_EQ(sup_->workers().size(), 2u);
  EXPECT_EQ(procs_.started.size(), 4u) << "nothing restarted";
  EXPECT_FALSE(Signalled(100, SIGTERM));
  EXPECT_FALSE(Signalled(101, SIGTERM));
  EXPECT_TRUE(sup_->Ready().ok);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kCrash), 0u);
  // The pool stays whole at its new size: a crash restarts seat 1 only.
  ASSERT_TRUE(sup_->OnChildExit(101, Killed(SIGSEGV)));
  Advance(1 * kMs);
  EXPECT_EQ(procs_.started.size(), 5u);
  EXPECT_EQ(procs_.started.back().index, 1);
}

TEST_F(SupervisorTest, ResizeUpDuringAShrinkRefillsTheEmptiedSeat) {
  StartAll(3);
  sup_->Resize(2, "down");
  EXPECT_TRUE(Signalled(102, SIGTERM));
  sup_->Resize(3, "up again");
  ASSERT_EQ(procs_.started.size(), 4u);
  EXPECT_EQ(procs_.started.back().index, 2);
  ASSERT_TRUE(sup_->OnChildExit(102, Exited(0)));
  Advance(50 * kMs);
  EXPECT_EQ(sup_->workers().size(), 3u);
}

TEST_F(SupervisorTest, ResizeWaitsForARollToFinish) {
  StartAll(2);
  sup_->RequestRoll("SIGHUP");
  size_t before = procs_.started.size();
  sup_->Resize(3, "more CPUs");
  EXPECT_EQ(sup_->workers_wanted(), 2) << "queued, not applied mid-roll";
  EXPECT_EQ(procs_.started.size(), before);
  EXPECT_EQ(sup_->StatusJson()["resize_pending"]["workers"], 3);
  // Finish the roll: each replacement turns ready in turn.
  for (int step = 0; step < 2; ++step) {
    MarkReady(procs_.started.back().pid);
    Advance(50 * kMs);
  }
  EXPECT_EQ(sup_->last_roll()->result, RollResult::kSuccess);
  EXPECT_EQ(sup_->workers_wanted(), 3);
  EXPECT_EQ(procs_.started.back().index, 2);
  EXPECT_FALSE(sup_->StatusJson().contains("resize_pending"));
}

TEST_F(SupervisorTest, ResizeWaitsForStartUp) {
  Make(2);
  sup_->Start();
  sup_->Resize(1, "fewer CPUs");
  EXPECT_EQ(sup_->workers_wanted(), 2);
  for (const auto& s : procs_.started) MarkReady(s.pid);
  Advance(50 * kMs);
  EXPECT_EQ(sup_->workers_wanted(), 1);
  EXPECT_TRUE(Signalled(101, SIGTERM));
}

TEST_F(SupervisorTest, ResizeIsIgnoredWhileShuttingDown) {
  StartAll(2);
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  sup_->Resize(4, "more CPUs");
  Advance(50 * kMs);
  EXPECT_EQ(procs_.started.size(), 2u);
  EXPECT_EQ(sup_->workers_wanted(), 2);
}

TEST_F(SupervisorTest, ResizeIsCappedByTheSlots) {
  StartAll(2);
  sup_->Resize(100, "a huge node");
  // 16 slots: room for 8 serving workers beside 8 draining ones.
  EXPECT_EQ(sup_->workers_wanted(), 8);
  EXPECT_EQ(procs_.started.size(), 8u);
}

}  // namespace
}  // namespace corral::master

// --readiness-at-term and the hung worker's report (lib/master/hang.cc).
namespace corral::master {
namespace {

TEST_F(SupervisorTest, ReadinessCanStayUpThroughTheDrainDelay) {
  config_.ready_through_drain_delay = true;
  StartAll(2);
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  EXPECT_EQ(sup_->state(), PoolState::kDrainDelay);
  EXPECT_TRUE(sup_->Ready().ok) << sup_->Ready().why;
  Advance(5100 * kMs);
  EXPECT_EQ(sup_->state(), PoolState::kDraining);
  EXPECT_FALSE(sup_->Ready().ok) << "nothing is accepted any more";
}

TEST_F(SupervisorTest, HungWorkerGetsTheStopSignalThenSigkill) {
  config_.proc_root = std::string(CORRAL_FIXTURES) + "/proc";
  config_.hang_stop_grace = absl::Seconds(3);
  StartAll(2);
  pid_t hung = procs_.started[0].pid;
  int64_t frozen = now_;
  auto tick = [&](int64_t ns) {
    now_ += ns;
    for (const auto& [pid, info] : sup_->workers()) {
      region_.slot(info.slot).heartbeat_ns = pid == hung ? frozen : now_;
    }
    sup_->Tick();
  };
  tick(31 * kSec);
  EXPECT_TRUE(Signalled(hung, SIGTERM)) << "the stop signal first";
  EXPECT_FALSE(Signalled(hung, SIGKILL));
  tick(2 * kSec);
  EXPECT_FALSE(Signalled(hung, SIGKILL)) << "within the grace";
  tick(1 * kSec + 1);
  EXPECT_TRUE(Signalled(hung, SIGKILL));
  ASSERT_TRUE(sup_->OnChildExit(hung, Killed(SIGKILL)));
  Advance(1 * kMs);
  EXPECT_EQ(procs_.started.back().index, 0);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kTimeout), 1u);
}

}  // namespace
}  // namespace corral::master

// Recycling (supervisor_recycle.cc).
class SupervisorRecycleTest : public SupervisorTest {
 protected:
  pid_t Pid(int started) const { return procs_.started[started].pid; }
  bool Recycle(pid_t pid, RecycleOrder order = RecycleOrder::kReplacementFirst,
               RetireReason reason = RetireReason::kMaxRequests) {
    return sup_->RequestRecycle(pid, reason, order, "test");
  }
  // The worker in `pid` exits as a drained worker does.
  void Exit(pid_t pid) {
    ASSERT_TRUE(sup_->OnChildExit(pid, Exited(0)));
    Advance(50 * kMs);
  }
};

TEST_F(SupervisorRecycleTest, ReplacementFirstDrainsTheOldOnlyOnceTheNewIsUp) {
  StartAll(2);
  pid_t old = Pid(0);
  ASSERT_TRUE(Recycle(old));
  ASSERT_EQ(procs_.started.size(), 3u);
  EXPECT_EQ(procs_.started[2].index, 0);
  Advance(50 * kMs);
  EXPECT_FALSE(Signalled(old, SIGTERM));
  EXPECT_EQ(CountPhase(WorkerPhase::kReady), 2);
  MarkReady(Pid(2));
  Advance(50 * kMs);
  EXPECT_TRUE(Signalled(old, SIGTERM));
  EXPECT_EQ(sup_->workers().at(old).reason, RetireReason::kMaxRequests);
  EXPECT_EQ(CountPhase(WorkerPhase::kReady), 2);
  EXPECT_TRUE(sup_->RecycleBusy());
  Exit(old);
  EXPECT_FALSE(sup_->RecycleBusy());
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kMaxRequests), 1u);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kRoll), 0u);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kCrash), 0u);
}

TEST_F(SupervisorRecycleTest, DrainFirstStartsTheReplacementWhenTheOldExits) {
  StartAll(2);
  pid_t old = Pid(0);
  ASSERT_TRUE(Recycle(old, RecycleOrder::kDrainFirst, RetireReason::kMemory));
  EXPECT_TRUE(Signalled(old, SIGTERM));
  EXPECT_EQ(procs_.started.size(), 2u);  // no room for both at once
  Advance(50 * kMs);
  EXPECT_EQ(procs_.started.size(), 2u);
  Exit(old);
  ASSERT_EQ(procs_.started.size(), 3u);
  EXPECT_EQ(procs_.started[2].index, 0);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kMemory), 1u);
  // The pool stayed ready through it: the other seat served.
  EXPECT_TRUE(sup_->Ready().ok);
}

TEST_F(SupervisorRecycleTest, OneAtATimeAndOnlyWithEverySeatUp) {
  StartAll(3);
  ASSERT_TRUE(Recycle(Pid(0)));
  ASSERT_TRUE(Recycle(Pid(1)));
  ASSERT_TRUE(Recycle(Pid(1)));  // asked twice: once
  ASSERT_EQ(procs_.started.size(), 4u);
  MarkReady(Pid(3));
  Advance(50 * kMs);
  // The first recycle lasts until its old worker has exited.
  EXPECT_EQ(procs_.started.size(), 4u);
  Exit(Pid(0));
  ASSERT_EQ(procs_.started.size(), 5u);
  EXPECT_EQ(procs_.started[4].index, 1);
  MarkReady(Pid(4));
  Advance(50 * kMs);
  Exit(Pid(1));
  EXPECT_EQ(procs_.started.size(), 5u);
  EXPECT_FALSE(sup_->RecycleBusy());
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kMaxRequests), 2u);
}

TEST_F(SupervisorRecycleTest, DrainFirstWaitsForTheEmptySeatBeforeTheNext) {
  StartAll(2);
  ASSERT_TRUE(Recycle(Pid(0), RecycleOrder::kDrainFirst));
  ASSERT_TRUE(Recycle(Pid(1), RecycleOrder::kDrainFirst));
  Exit(Pid(0));
  ASSERT_EQ(procs_.started.size(), 3u);  // seat 0's replacement
  // Seat 0 is not serving yet: worker 1 must not drain now, or nothing
  // would serve.
  EXPECT_FALSE(Signalled(Pid(1), SIGTERM));
  MarkReady(Pid(2));
  Advance(50 * kMs);
  EXPECT_TRUE(Signalled(Pid(1), SIGTERM));
}

TEST_F(SupervisorRecycleTest, ARollTakesPrecedenceAndDropsTheRequests) {
  StartAll(2);
  ASSERT_TRUE(Recycle(Pid(0)));  // under way: Pid(2) starts for seat 0
  ASSERT_TRUE(Recycle(Pid(1)));  // waiting
  sup_->RequestRoll("SIGHUP");
  EXPECT_TRUE(sup_->RecycleBusy());
  // The recycle under way finishes as it began.
  MarkReady(Pid(2));
  Advance(50 * kMs);
  EXPECT_EQ(sup_->workers().at(Pid(0)).reason, RetireReason::kMaxRequests);
  Exit(Pid(0));
  EXPECT_FALSE(sup_->RecycleBusy());  // the waiting request was dropped
  // The roll replaces seat 0's worker again (it predates the roll), then
  // seat 1's: the only new worker for seat 1 is the roll's.
  MarkReady(Pid(3));
  Advance(50 * kMs);
  ASSERT_EQ(procs_.started.size(), 5u);
  EXPECT_EQ(procs_.started[4].index, 1);
  // Asked for during the roll: it lapses once the roll drains the worker.
  EXPECT_TRUE(Recycle(Pid(1)));
  MarkReady(Pid(4));
  Advance(50 * kMs);
  EXPECT_EQ(sup_->workers().at(Pid(1)).reason, RetireReason::kRoll);
  EXPECT_FALSE(sup_->RecycleBusy());
  EXPECT_EQ(procs_.started.size(), 5u);
}

TEST_F(SupervisorRecycleTest, NothingIsRecycledWhileShuttingDown) {
  StartAll(2);
  ASSERT_TRUE(Recycle(Pid(0)));
  ASSERT_TRUE(Recycle(Pid(1)));
  sup_->RequestShutdown(Shutdown::kGraceful, "TERM");
  EXPECT_FALSE(Recycle(Pid(1)));
  Advance(50 * kMs);
  EXPECT_EQ(procs_.started.size(), 3u);  // only the first one's replacement
}

TEST_F(SupervisorRecycleTest, AReplacementThatFailsLeavesTheOldServing) {
  StartAll(2);
  pid_t old = Pid(0);
  ASSERT_TRUE(Recycle(old));
  ASSERT_TRUE(sup_->OnChildExit(Pid(2), Exited(1)));
  Advance(50 * kMs);
  EXPECT_FALSE(Signalled(old, SIGTERM));
  EXPECT_EQ(sup_->workers().at(old).phase, WorkerPhase::kReady);
  EXPECT_FALSE(sup_->RecycleBusy());
  // And it may be asked for again.
  EXPECT_TRUE(Recycle(old));
  EXPECT_EQ(procs_.started.size(), 4u);
}

TEST_F(SupervisorRecycleTest, OnlyReadyWorkersCanBeRecycled) {
  Make(1);
  sup_->Start();
  EXPECT_FALSE(Recycle(Pid(0)));  // still starting
  EXPECT_FALSE(Recycle(4242));    // not ours
}

TEST_F(SupervisorRecycleTest, AnOomKillIsCountedAsOomNotAsACrash) {
  StartAll(2);
  int asked = 0;
  sup_->OnUnexpectedKill([&asked](pid_t) -> std::optional<nlohmann::json> {
    ++asked;
    return nlohmann::json{{"oom_kills", 1}};
  });
  ASSERT_TRUE(sup_->OnChildExit(Pid(0), Killed(SIGKILL)));
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kOom), 1u);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kCrash), 0u);
  Advance(50 * kMs);
  EXPECT_EQ(procs_.started.size(), 3u);  // replaced like a crash
  // Other deaths are not asked about: an exit code, or a SIGKILL of ours.
  ASSERT_TRUE(sup_->OnChildExit(Pid(1), Exited(3)));
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kCrash), 1u);
}

TEST_F(SupervisorRecycleTest, ASigkillThatIsNoOomKillIsACrash) {
  StartAll(1);
  sup_->OnUnexpectedKill(
      [](pid_t) -> std::optional<nlohmann::json> { return std::nullopt; });
  ASSERT_TRUE(sup_->OnChildExit(Pid(0), Killed(SIGKILL)));
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kCrash), 1u);
  EXPECT_EQ(sup_->counts().restarts_for(RetireReason::kOom), 0u);
}

}  // namespace
}  // namespace corral::master
