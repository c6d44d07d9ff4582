// The wait for a place on an app process (or, later, a C++ worker's
// handler): requests of each class in arrival order, served highest class
// first, oldest first normally and newest first while that class's queue
// is overloaded (DelayTarget, one per class: each class has its own places
// on the app processes, so browsing that stands past the target says
// nothing about how long a checkout waits; with one target a standing
// page queue cut the checkouts' allowance to the target, and at twice the
// Node store's capacity 98.2% and 99.4% of checkouts succeeded in two
// runs, 100% in both with a target per class). Bounded three ways: by
// length (a full queue
// refuses a newcomer, or makes room by shedding a waiting request of a
// lower class), by the delay target, and by a hard time-out (for when no
// app process takes requests at all, as at start-up).
//
// Pure: the items are the caller's, time comes in as arguments.
#ifndef CORRAL_OVERLOAD_ADMISSION_QUEUE_H_
#define CORRAL_OVERLOAD_ADMISSION_QUEUE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "overload/delay_target.h"
#include "overload/priority.h"

namespace corral::overload {

// Why a request was answered 503 instead of being served.
enum class ShedReason {
  kQueueFull = 0,     // the queue was full of requests of its class or above
                      // (overloaded: the oldest of its class made room)
  kDisplaced = 1,     // a request of a higher class took its place
  kQueueDelay = 2,    // it waited past the delay target (or target+interval)
  kQueueTimeout = 3,  // it waited past --queue-timeout
  kTunnels = 4,       // an upgrade past the tunnels a proxy worker holds
};
inline constexpr std::array<std::string_view, 5> kShedReasonNames = {
    "queue_full", "displaced", "queue_delay", "queue_timeout", "tunnels"};
inline constexpr int kShedReasons = static_cast<int>(kShedReasonNames.size());
inline std::string_view Name(ShedReason r) {
  return kShedReasonNames[static_cast<size_t>(r)];
}

template <typename T>
class AdmissionQueue {
 public:
  struct Entry {
    T item;
    Priority priority;
    int64_t queued_ns;
  };
  struct Shed {
    Entry entry;
    ShedReason reason;
  };

  AdmissionQueue(size_t capacity, DelayTarget target)
      : capacity_(capacity), targets_(kPriorities, target) {}

  // Queues `item`, or returns why not. When the queue is full, the oldest
  // request of the lowest class below `priority` makes room (into `shed`);
  // when there is none and its class is overloaded, the oldest of its own
  // class does: served newest first, the oldest would wait out the target
  // and be shed anyway, and the newcomer's user is the one still waiting.
  std::optional<ShedReason> Push(T item, Priority priority, int64_t now_ns,
                                 std::vector<Shed>& shed) {
    if (size_ >= capacity_) {
      if (std::optional<Entry> lower = TakeLowest(priority)) {
        shed.push_back({std::move(*lower), ShedReason::kDisplaced});
      } else if (TargetOf(priority).overloaded() && !At(priority).empty()) {
        shed.push_back({std::move(At(priority).front()),
                        ShedReason::kQueueFull});
        At(priority).pop_front();
        --size_;
      } else {
        return ShedReason::kQueueFull;
      }
    }
    At(priority).push_back({std::move(item), priority, now_ns});
    ++size_;
    return std::nullopt;
  }

  // Queues `item` past the capacity: for waits bounded elsewhere.
  void PushUnbounded(T item, Priority priority, int64_t now_ns) {
    At(priority).push_back({std::move(item), priority, now_ns});
    ++size_;
  }

  // Sheds (into `shed`) what waited too long: past its class's delay
  // target's bound when `delay_applies` (app processes take requests, they
  // are only busy), and past `timeout_ns` always.
  void Expire(int64_t now_ns, bool delay_applies, int64_t timeout_ns,
              std::vector<Shed>& shed) {
    for (size_t c = 0; c < classes_.size(); ++c) {
      std::deque<Entry>& q = classes_[c];
      // Each class is in arrival order: its oldest, and the expired ones,
      // are in front.
      targets_[c].Observe(now_ns, q.empty() ? std::nullopt
                                             : std::optional<int64_t>(
                                                   q.front().queued_ns));
      const int64_t max_wait = targets_[c].MaxWait();
      while (!q.empty()) {
        const int64_t waited = now_ns - q.front().queued_ns;
        if (waited >= timeout_ns) {
          shed.push_back({std::move(q.front()), ShedReason::kQueueTimeout});
        } else if (delay_applies && waited >= max_wait) {
          shed.push_back({std::move(q.front()), ShedReason::kQueueDelay});
        } else {
          break;
        }
        q.pop_front();
        --size_;
      }
    }
  }

  // The next to serve, left in place; nullptr when empty.
  Entry* Next() {
    for (int c = kPriorities - 1; c >= 0; --c) {
      std::deque<Entry>& q = classes_[static_cast<size_t>(c)];
      if (q.empty()) continue;
      return targets_[static_cast<size_t>(c)].overloaded() ? &q.back()
                                                           : &q.front();
    }
    return nullptr;
  }
  // Takes out the one Next() gave.
  Entry Pop() {
    Entry* next = Next();
    std::deque<Entry>& q = At(next->priority);
    const bool newest = TargetOf(next->priority).overloaded();
    Entry out = std::move(*next);
    if (newest) {
      q.pop_back();
    } else {
      q.pop_front();
    }
    --size_;
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Whether any class's queue is overloaded.
  bool overloaded() const {
    for (const DelayTarget& t : targets_) {
      if (t.overloaded()) return true;
    }
    return false;
  }
  bool overloaded(Priority p) const {
    return targets_[static_cast<size_t>(p)].overloaded();
  }

 private:
  std::deque<Entry>& At(Priority p) {
    return classes_[static_cast<size_t>(p)];
  }
  DelayTarget& TargetOf(Priority p) {
    return targets_[static_cast<size_t>(p)];
  }
  std::optional<Entry> TakeLowest(Priority below) {
    for (int c = 0; c < static_cast<int>(below); ++c) {
      std::deque<Entry>& q = classes_[static_cast<size_t>(c)];
      if (q.empty()) continue;
      Entry e = std::move(q.front());
      q.pop_front();
      --size_;
      return e;
    }
    return std::nullopt;
  }

  size_t capacity_;
  std::vector<DelayTarget> targets_;  // one per class, indexed as classes_
  std::array<std::deque<Entry>, kPriorities> classes_;
  size_t size_ = 0;
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_ADMISSION_QUEUE_H_
