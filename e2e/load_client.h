// An HTTP/1.1 load client for end-to-end tests. It keeps many keep-alive
// connections busy and accounts for every request it sends exactly once, so a
// test can assert "zero failed requests" across a server restart.
#ifndef CORRAL_E2E_LOAD_CLIENT_H_
#define CORRAL_E2E_LOAD_CLIENT_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace corral::e2e {

struct RequestSpec {
  // An empty method means "no more requests" (see LoadOptions::next).
  std::string method;
  std::string target;
  std::string body;
  std::string content_type = "application/json";  // sent only with a body
};

struct LoadOptions {
  std::string host = "127.0.0.1";  // an IP literal or a resolvable name
  uint16_t port = 0;
  int connections = 200;
  // Produces request number n (a global, gap-free index starting at 0). Called
  // on the client's thread, right before the request is written. Returning a
  // spec with an empty method ends the run: no request is sent for it, next is
  // not called again, and every connection closes once its in-flight request
  // has its outcome. If unset, every request is GET /.
  std::function<RequestSpec(uint64_t n)> next;
  // Bounds the write of a request plus the read of its whole response.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{5000};
  // Optional; called on the client's thread for each complete response.
  // Header names are lower-cased; repeated headers are joined with ", ".
  std::function<void(const RequestSpec& spec, int status,
                     const std::string& body,
                     const std::map<std::string, std::string>& headers)>
      on_response;
};

struct LoadCounts {
  uint64_t sent = 0;            // requests whose write was started
  uint64_t ok = 0;              // full response, 2xx
  uint64_t non_2xx = 0;         // full response, any other status
  uint64_t connect_errors = 0;  // failed connect attempts; not requests
  // The connection broke (EOF, ECONNRESET, EPIPE, truncated response) while
  // writing a request or reading its response.
  uint64_t reset_errors = 0;
  uint64_t timeouts = 0;      // request_timeout passed without a response
  uint64_t other_errors = 0;  // e.g. an unparsable response

  // Everything a real client would have seen as a failure, connect errors
  // included: a restart must not refuse connections either.
  uint64_t failed() const {
    return non_2xx + connect_errors + reset_errors + timeouts + other_errors;
  }
  // Sent requests that have their outcome. Equals `sent` after Stop().
  uint64_t completed() const {
    return ok + non_2xx + reset_errors + timeouts + other_errors;
  }
  std::string ToString() const;
};

class LoadClient {
 public:
  explicit LoadClient(LoadOptions options);
  ~LoadClient();  // Stop()s

  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  // Spawns the client thread and opens options.connections connections. Each
  // sends its requests back to back: write, read the full response, repeat.
  // A response with Connection: close (or HTTP/1.0 without keep-alive) makes
  // that connection reconnect; that is not an error. A failed connect is
  // counted and retried after a short backoff until Stop(). Call once.
  void Start();
  // Stops issuing new requests, waits for every sent request to get its
  // outcome (each is bounded by request_timeout), then closes the connections
  // and joins the thread. Afterwards sent == completed(). Idempotent.
  void Stop();

  // Off: a connection the server closes with Connection: close is not
  // reopened, as when a pod's endpoint was removed and new connections go
  // elsewhere. Callable from any thread.
  void SetReconnect(bool on) { reconnect_ = on; }

  // A snapshot, callable from any thread while running. sent is read last,
  // so sent >= completed() holds in every snapshot.
  LoadCounts Counts() const;
  // Polls until completed() >= n; false if the deadline passed first.
  bool WaitForCompleted(uint64_t n, std::chrono::milliseconds deadline) const;

 private:
  class Connection;
  friend class Connection;

  // Both run on the client thread.
  void BeginStop();
  void OnConnectionDone();

  const LoadOptions options_;
  boost::asio::io_context io_;  // declared before the connections it outlives
  boost::asio::ip::tcp::endpoint endpoint_;
  bool resolved_ = false;
  std::string host_header_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::thread thread_;

  // Client-thread state.
  uint64_t next_index_ = 0;
  bool exhausted_ = false;  // next() returned an empty method
  bool stopping_ = false;
  int live_connections_ = 0;

  std::atomic<bool> reconnect_{true};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> ok_{0};
  std::atomic<uint64_t> non_2xx_{0};
  std::atomic<uint64_t> connect_errors_{0};
  std::atomic<uint64_t> reset_errors_{0};
  std::atomic<uint64_t> timeouts_{0};
  std::atomic<uint64_t> other_errors_{0};
};

}  // namespace corral::e2e

#endif  // CORRAL_E2E_LOAD_CLIENT_H_
