// One shared memory region (memfd, MAP_SHARED) the master creates and every
// worker inherits. Each worker owns one slot and records its requests there
// with relaxed atomics: no locks, syscalls or IPC on the request path. The
// master reads slots (state, heartbeat, metrics) and resets a slot it
// reuses; for a command's copies, which cannot write a slot, it writes their
// state, heartbeat and endpoint itself. Proxy mode's routing counts are
// seq_cst (region::UpstreamInFlight, proxy/balancer.cc).
#ifndef CORRAL_REGION_SHARED_REGION_H_
#define CORRAL_REGION_SHARED_REGION_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "overload/admission_queue.h"
#include "overload/priority.h"

namespace corral::region {

inline constexpr uint64_t kMagic = 0x636f7272616c3031;  // "corral01"

// OpenTelemetry's HTTP duration buckets, in seconds; one more for +Inf.
inline constexpr std::array<double, 14> kDurationBounds = {
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
    0.5,   0.75, 1.0,   2.5,  5.0,   7.5, 10.0};
inline constexpr size_t kBuckets = kDurationBounds.size() + 1;

// Methods are a closed set so the method label stays bounded.
inline constexpr std::array<std::string_view, 10> kMethods = {
    "GET",   "HEAD",    "POST",    "PUT",   "DELETE",
    "PATCH", "OPTIONS", "CONNECT", "TRACE", "_OTHER"};
int MethodIndex(std::string_view method);

inline constexpr int kMaxRoutes = 32;
inline constexpr int kRouteNameBytes = 64;
inline constexpr int kMaxSeries = 128;
inline constexpr int kPathBytes = 64;
// Proxy mode: app processes live in slots below this.
inline constexpr int kMaxUpstreams = 256;
// Proxy mode: answers an app process's slot keeps for its limit; its
// owner reads them every 10 ms.
inline constexpr int kLatencyRing = 1024;

enum class SlotState : uint32_t {
  kFree = 0,
  kStarting = 1,
  kReady = 2,
  kDraining = 3,
};

// One (method, status, route) combination of one worker.
struct Series {
  // 0 = unused; otherwise EncodeKey(...). Published last, with release.
  std::atomic<uint64_t> key;
  // The count is the buckets' sum (see RequestTotals), so none is kept.
  std::atomic<uint64_t> duration_sum_ns;
  std::array<std::atomic<uint64_t>, kBuckets> buckets;  // not cumulative
};

uint64_t EncodeKey(int method, int status, int route);
void DecodeKey(uint64_t key, int* method, int* status, int* route);

struct alignas(64) WorkerSlot {
  std::atomic<uint32_t> state;        // SlotState
  std::atomic<int64_t> heartbeat_ns;  // CLOCK_MONOTONIC, bumped by its loop
  std::atomic<int64_t> in_flight;
  // Requests served; for an app process in proxy mode, requests the proxy
  // workers sent it (--max-requests reads it).
  std::atomic<uint64_t> requests_total;
  std::atomic<uint64_t> connections_open;  // refreshed with the heartbeat
  // The request the worker is busy with, for the log when it hangs.
  std::array<std::atomic<uint64_t>, kPathBytes / 8> current_path;
  std::atomic<int32_t> route_count;
  char routes[kMaxRoutes][kRouteNameBytes];  // written before kStarting->ready
  std::array<Series, kMaxSeries> series;

  // Proxy mode. An app process's slot is written by the master: where it
  // listens, set before the slot turns ready: its port on 127.0.0.1, or
  // with --app-socket-dir the id of its unix socket (pool::AppSocketPath).
  std::atomic<uint32_t> upstream_port;
  // An app process's slot, in proxy mode with adaptive concurrency: its
  // limit on requests in flight (overload::GradientLimiter), written by
  // the proxy worker that owns the limits (proxy/limits.h); 0 until then.
  std::atomic<int32_t> concurrency_limit;
  // With adaptive concurrency, each class of request has a limit of its
  // own (the sum is concurrency_limit): a checkout that waits 50 ms on its
  // payment holds a place without loading the app, and under one shared
  // limit the checkouts (served first) took the places the pages needed,
  // or the pages' queueing cut the checkouts' places. 0 until set.
  std::array<std::atomic<int32_t>, overload::kPriorities> class_limit;
  // Its latency with no queue as a probe last measured it (0: not yet).
  std::atomic<int64_t> min_rtt_ns;
  // The latencies of its answers, from every proxy worker, for the one
  // that sets its limit (proxy/latency_ring.h): entries ever written, and
  // the latest kLatencyRing of them.
  std::atomic<uint64_t> latencies_written;
  std::array<std::atomic<uint64_t>, kLatencyRing> latencies;
  // A proxy worker's slot: its requests in flight to each app process, by
  // the app process's slot (so a proxy that dies takes its counts with it),
  // and its requests waiting for a free app process.
  std::array<std::atomic<int32_t>, kMaxUpstreams> upstream_in_flight;
  // The same by class of request, tunnels left out.
  std::array<std::array<std::atomic<int32_t>, overload::kPriorities>,
             kMaxUpstreams>
      upstream_class_in_flight;
  // Of those, the tunnels (WebSockets): an app process's stop waits for
  // them like any request, but they hold no place under --app-concurrency
  // or on the proxy worker's upstream connections for requests.
  std::array<std::atomic<int32_t>, kMaxUpstreams> upstream_tunnels;
  std::atomic<int64_t> queued;
  std::atomic<uint64_t> queue_rejected_total;
  // Requests answered 503 instead of served, by class and reason, and
  // requests sent to an app process, by class.
  std::array<std::array<std::atomic<uint64_t>, overload::kShedReasons>,
             overload::kPriorities>
      shed_total;
  std::array<std::atomic<uint64_t>, overload::kPriorities> admitted_total;
  // How long requests waited in its admission queue, by class.
  std::array<std::atomic<uint64_t>, overload::kPriorities> queue_wait_sum_ns;
  std::array<std::array<std::atomic<uint64_t>, kBuckets>, overload::kPriorities>
      queue_wait_buckets;

  // Requests answered 504 (or cut) at --request-deadline, and whether one
  // asks for this worker to be recycled once its other requests finish
  // (a C++ app's worker; a proxy worker counts them only).
  std::atomic<uint64_t> past_deadline_total;
  std::atomic<uint32_t> recycle_requested;

  // A C++ app's worker: how late its event loop's probe last ran, and the
  // requests it answered 503 while the loop was behind, by class
  // (overload/lag_shedder.h).
  std::atomic<int64_t> loop_lag_ns;
  std::array<std::atomic<uint64_t>, overload::kPriorities> lag_shed_total;
};

struct RegionHeader {
  uint64_t magic;
  uint32_t slot_count;
  uint32_t slot_size;
};

class SharedRegion {
 public:
  // Master: a new anonymous region of `slots` slots (memfd, not CLOEXEC so
  // workers can inherit it).
  static absl::StatusOr<SharedRegion> Create(int slots);
  // Worker: maps the region inherited as `fd`.
  static absl::StatusOr<SharedRegion> Attach(int fd);

  SharedRegion(SharedRegion&&) noexcept;
  SharedRegion& operator=(SharedRegion&&) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  int fd() const { return fd_; }
  int slot_count() const { return static_cast<int>(header()->slot_count); }
  WorkerSlot& slot(int i) const;

  // Master: zero a slot before handing it to a new worker.
  void Reset(int i) const;

 private:
  SharedRegion(int fd, void* base, size_t size)
      : fd_(fd), base_(base), size_(size) {}
  RegionHeader* header() const { return static_cast<RegionHeader*>(base_); }

  int fd_ = -1;
  void* base_ = nullptr;
  size_t size_ = 0;
};

// A run of slots: [first, first + count).
struct SlotRange {
  int first = 0;
  int count = 0;
  bool Contains(int slot) const {
    return slot >= first && slot < first + count;
  }
};

// Proxy mode: requests in flight to the app process in `app_slot`, summed
// over the proxy workers' slots.
int64_t UpstreamInFlight(const SharedRegion& region, SlotRange proxies,
                         int app_slot);

// Of those, the requests of one class, tunnels left out.
int64_t UpstreamClassInFlight(const SharedRegion& region, SlotRange proxies,
                              int app_slot, overload::Priority priority);

// Of those, the tunnels (see WorkerSlot::upstream_tunnels).
int64_t UpstreamTunnels(const SharedRegion& region, SlotRange proxies,
                        int app_slot);

// Copies a string into / out of the slot's current_path words.
void StorePath(WorkerSlot& slot, std::string_view path);
std::string LoadPath(const WorkerSlot& slot);

}  // namespace corral::region

#endif  // CORRAL_REGION_SHARED_REGION_H_
