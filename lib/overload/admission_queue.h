// The wait for a place on an app process (or, later, a C++ worker's
// handler): requests of each class in arrival order, served highest class
// first, oldest first normally and newest first while the queue is
// overloaded (DelayTarget). Bounded three ways: by length (a full queue
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
      : capacity_(capacity), target_(target) {}

  // Queues `item`, or returns why not. When the queue is full, the oldest
  // request of the lowest class below `priority` makes room (into `shed`);
  // when there is none and the queue is overloaded, the oldest of its own
  // class does: served newest first, the oldest would wait out the target
  // and be shed anyway, and the newcomer's user is the one still waiting.
  std::optional<ShedReason> Push(T item, Priority priority, int64_t now_ns,
                                 std::vector<Shed>& shed) {
    if (size_ >= capacity_) {
      if (std::optional<Entry> lower = TakeLowest(priority)) {
        shed.push_back({std::move(*lower), ShedReason::kDisplaced});
      } else if (target_.overloaded() && !At(priority).empty()) {
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

  // Sheds (into `shed`) what waited too long: past the delay target's
  // bound when `delay_applies` (app processes take requests, they are only
  // busy), and past `timeout_ns` always.
  void Expire(int64_t now_ns, bool delay_applies, int64_t timeout_ns,
              std::vector<Shed>& shed) {
    target_.Observe(now_ns, size_ > 0 ? std::optional<int64_t>(Oldest())
                                      : std::nullopt);
    const int64_t max_wait = target_.MaxWait();
    for (std::deque<Entry>& q : classes_) {
      // Each class is in arrival order: the expired ones are in front.
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
      return target_.overloaded() ? &q.back() : &q.front();
    }
    return nullptr;
  }
  // Takes out the one Next() gave.
  Entry Pop() {
    Entry* next = Next();
    std::deque<Entry>& q = At(next->priority);
    Entry out = std::move(*next);
    if (target_.overloaded()) {
      q.pop_back();
    } else {
      q.pop_front();
    }
    --size_;
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool overloaded() const { return target_.overloaded(); }

 private:
  std::deque<Entry>& At(Priority p) {
    return classes_[static_cast<size_t>(p)];
  }
  // Of a queue that is not empty.
  int64_t Oldest() const {
    std::optional<int64_t> oldest;
    for (const std::deque<Entry>& q : classes_) {
      // Each class is in arrival order.
      if (!q.empty() && (!oldest || q.front().queued_ns < *oldest)) {
        oldest = q.front().queued_ns;
      }
    }
    return *oldest;
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
  DelayTarget target_;
  std::array<std::deque<Entry>, kPriorities> classes_;
  size_t size_ = 0;
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_ADMISSION_QUEUE_H_
