#include "proxy/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include "proxy/balancer.h"

namespace corral::proxy {
namespace {

// How long a kept-alive upstream connection may sit idle and still be
// reused: below the idle timeouts apps keep (Node 5 s, gunicorn 2 s), so
// the app is not closing it just as a request goes out.
constexpr std::chrono::milliseconds kIdleReuse{1500};
// Idle connections kept per app process at most.
constexpr size_t kMaxIdlePerApp = 256;

}  // namespace

std::unique_ptr<Upstream> UpstreamPool::Take(int app) {
  auto it = idle_.find(app);
  if (it == idle_.end()) return nullptr;
  const uint32_t port =
      region_.slot(app).upstream_port.load(std::memory_order_acquire);
  const Clock::time_point now = Clock::now();
  std::vector<std::unique_ptr<Upstream>>& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<Upstream> u = std::move(list.back());
    list.pop_back();
    if (u->port != port || now - u->idle_since > kIdleReuse) continue;
    // A connection the app has closed reads EOF (or a reset) at once.
    char probe;
    ssize_t n =
        ::recv(u->socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return u;
  }
  return nullptr;
}

void UpstreamPool::Put(std::unique_ptr<Upstream> upstream) {
  upstream->idle_since = Clock::now();
  std::vector<std::unique_ptr<Upstream>>& list = idle_[upstream->app];
  // The oldest go first when a burst leaves more idle than ever needed.
  if (list.size() >= kMaxIdlePerApp) list.erase(list.begin());
  list.push_back(std::move(upstream));
}

void UpstreamPool::Sweep(Clock::time_point now) {
  for (auto& [app, list] : idle_) {
    const region::WorkerSlot& slot = region_.slot(app);
    const bool routable = Routable(slot);
    const uint32_t port = slot.upstream_port.load(std::memory_order_acquire);
    std::erase_if(list, [&](const std::unique_ptr<Upstream>& u) {
      return !routable || u->port != port || now - u->idle_since > kIdleReuse;
    });
  }
}

}  // namespace corral::proxy
