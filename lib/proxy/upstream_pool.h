// The idle kept-alive connections of one proxy worker, by app process:
// the next request to that process reuses one while it is young and still
// open. (h2o's socketpool, for corral's app processes.)
#ifndef CORRAL_PROXY_UPSTREAM_POOL_H_
#define CORRAL_PROXY_UPSTREAM_POOL_H_

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "region/shared_region.h"

namespace corral::proxy {

// A connection to an app process.
struct Upstream {
  explicit Upstream(boost::asio::io_context& io) : socket(io) {}
  // TCP to 127.0.0.1, or a unix socket.
  boost::asio::generic::stream_protocol::socket socket;
  boost::beast::flat_buffer buffer;
  int app = -1;       // the app process's slot
  uint32_t port = 0;  // its endpoint when connected (port or socket id)
  // The kernel stamps what it receives (proxy/stamped_read.h).
  bool stamped = false;
  std::chrono::steady_clock::time_point idle_since;
};

class UpstreamPool {
 public:
  using Clock = std::chrono::steady_clock;

  explicit UpstreamPool(const region::SharedRegion& region) : region_(region) {}

  // An idle connection to `app` that is still usable, or nothing.
  std::unique_ptr<Upstream> Take(int app);
  // A connection whose last answer was read in full, kept for reuse.
  void Put(std::unique_ptr<Upstream> upstream);
  // Closes the connections no request will use: too old, to an app
  // process that takes no more requests (so it can exit), or to an
  // endpoint the slot no longer has.
  void Sweep(Clock::time_point now);

 private:
  const region::SharedRegion& region_;
  std::map<int, std::vector<std::unique_ptr<Upstream>>> idle_;
};

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_UPSTREAM_POOL_H_
