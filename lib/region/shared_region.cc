#include "region/shared_region.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace corral::region {
namespace {

static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "shared-memory counters need lock-free 64-bit atomics");

size_t SlotOffset(int i) {
  size_t header = (sizeof(RegionHeader) + 63) / 64 * 64;
  return header + static_cast<size_t>(i) * sizeof(WorkerSlot);
}

absl::Status Errno(std::string_view what) {
  return absl::InternalError(
      absl::StrCat(std::string(what), ": ", std::strerror(errno)));
}

}  // namespace

int MethodIndex(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) return static_cast<int>(i);
  }
  return static_cast<int>(kMethods.size() - 1);
}

uint64_t EncodeKey(int method, int status, int route) {
  return (1ull << 40) | (static_cast<uint64_t>(method & 0xff) << 24) |
         (static_cast<uint64_t>(status & 0xffff) << 8) |
         static_cast<uint64_t>(route & 0xff);
}

void DecodeKey(uint64_t key, int* method, int* status, int* route) {
  *method = static_cast<int>((key >> 24) & 0xff);
  *status = static_cast<int>((key >> 8) & 0xffff);
  *route = static_cast<int>(key & 0xff);
}

absl::StatusOr<SharedRegion> SharedRegion::Create(int slots) {
  if (slots < 1) return absl::InvalidArgumentError("region needs a slot");
  int fd = memfd_create("corral-metrics", 0);
  if (fd < 0) return Errno("memfd_create");
  size_t size = SlotOffset(slots);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    absl::Status s = Errno("ftruncate");
    close(fd);
    return s;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    absl::Status s = Errno("mmap");
    close(fd);
    return s;
  }
  // ftruncate zero-fills: every atomic starts at 0, which is a valid object
  // representation for them on this platform.
  auto* header = static_cast<RegionHeader*>(base);
  header->magic = kMagic;
  header->slot_count = static_cast<uint32_t>(slots);
  header->slot_size = static_cast<uint32_t>(sizeof(WorkerSlot));
  return SharedRegion(fd, base, size);
}

absl::StatusOr<SharedRegion> SharedRegion::Attach(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Errno("fstat of the metrics region");
  size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(RegionHeader)) {
    return absl::FailedPreconditionError("metrics region is too small");
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return Errno("mmap of the metrics region");
  auto* header = static_cast<RegionHeader*>(base);
  if (header->magic != kMagic || header->slot_size != sizeof(WorkerSlot) ||
      SlotOffset(static_cast<int>(header->slot_count)) > size) {
    munmap(base, size);
    return absl::FailedPreconditionError(
        "metrics region was made by another corral version");
  }
  return SharedRegion(fd, base, size);
}

SharedRegion::SharedRegion(SharedRegion&& o) noexcept
    : fd_(o.fd_), base_(o.base_), size_(o.size_) {
  o.fd_ = -1;
  o.base_ = nullptr;
  o.size_ = 0;
}

SharedRegion& SharedRegion::operator=(SharedRegion&& o) noexcept {
  if (this != &o) {
    this->~SharedRegion();
    new (this) SharedRegion(std::move(o));
  }
  return *this;
}

SharedRegion::~SharedRegion() {
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
}

WorkerSlot& SharedRegion::slot(int i) const {
  return *reinterpret_cast<WorkerSlot*>(static_cast<char*>(base_) +
                                        SlotOffset(i));
}

void SharedRegion::Reset(int i) const {
  std::memset(static_cast<void*>(&slot(i)), 0, sizeof(WorkerSlot));
}

void StorePath(WorkerSlot& slot, std::string_view path) {
  char buf[kPathBytes] = {};
  std::memcpy(buf, path.data(), std::min(path.size(), sizeof(buf) - 1));
  for (size_t w = 0; w < slot.current_path.size(); ++w) {
    uint64_t word;
    std::memcpy(&word, buf + w * 8, 8);
    slot.current_path[w].store(word, std::memory_order_relaxed);
  }
}

std::string LoadPath(const WorkerSlot& slot) {
  char buf[kPathBytes + 1] = {};
  for (size_t w = 0; w < slot.current_path.size(); ++w) {
    uint64_t word = slot.current_path[w].load(std::memory_order_relaxed);
    std::memcpy(buf + w * 8, &word, 8);
  }
  return std::string(buf);
}

namespace {

// One per-app count of a proxy worker's slot, summed over the proxy workers.
int64_t SumOverProxies(
    const SharedRegion& region, SlotRange proxies, int app_slot,
    std::array<std::atomic<int32_t>, kMaxUpstreams> WorkerSlot::*counts) {
  int64_t sum = 0;
  for (int p = proxies.first; p < proxies.first + proxies.count; ++p) {
    sum += (region.slot(p).*counts)[app_slot].load(std::memory_order_seq_cst);
  }
  return sum;
}

}  // namespace

int64_t UpstreamInFlight(const SharedRegion& region, SlotRange proxies,
                         int app_slot) {
  return SumOverProxies(region, proxies, app_slot,
                        &WorkerSlot::upstream_in_flight);
}

int64_t UpstreamClassInFlight(const SharedRegion& region, SlotRange proxies,
                              int app_slot, overload::Priority priority) {
  int64_t sum = 0;
  for (int p = proxies.first; p < proxies.first + proxies.count; ++p) {
    sum += region.slot(p)
               .upstream_class_in_flight[static_cast<size_t>(app_slot)]
                                        [static_cast<size_t>(priority)]
               .load(std::memory_order_seq_cst);
  }
  return sum;
}

int64_t UpstreamTunnels(const SharedRegion& region, SlotRange proxies,
                        int app_slot) {
  return SumOverProxies(region, proxies, app_slot,
                        &WorkerSlot::upstream_tunnels);
}

}  // namespace corral::region
