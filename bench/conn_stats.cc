// A closed-loop keep-alive HTTP/1.1 client for `make bench` that records what
// wrk cannot: how many requests each connection got answered and the longest
// each one waited. A server that answers fast on average can still leave some
// connections waiting for seconds; the spread shows it.
//
//   conn_stats HOST PORT CONNECTIONS SECONDS TIMEOUT_SECONDS OUT_FILE
//
// Like wrk: every connection sends GET /products/{1..500} back to back, one
// request at a time; a request unanswered after TIMEOUT_SECONDS is a timeout
// and its connection is reopened, as is one the server closes. OUT_FILE gets
// one line per connection, "requests longest_wait_us", where the longest wait
// also counts a request still unanswered when the run ends. Stdout gets one
// line: requests, connect errors, read errors, timeouts, non-2xx.
//
// Built by bench/run.sh with g++ alone; it needs nothing but libc.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

int64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000 + ts.tv_nsec / 1000;
}

struct Counts {
  uint64_t requests = 0;
  uint64_t connect_errors = 0;
  uint64_t read_errors = 0;
  uint64_t timeouts = 0;
  uint64_t non_2xx = 0;
};

struct Connection {
  int fd = -1;
  bool connected = false;
  bool in_flight = false;
  int64_t sent_at_us = 0;
  std::string out;
  size_t written = 0;
  std::string in;
  uint64_t requests = 0;
  int64_t longest_wait_us = 0;
};

class Client {
 public:
  Client(const sockaddr_in& addr, const std::string& host, int connections,
         int64_t timeout_us)
      : addr_(addr),
        host_(host),
        timeout_us_(timeout_us),
        connections_(connections),
        epoll_(epoll_create1(0)) {}

  void Run(int64_t duration_us) {
    for (size_t i = 0; i < connections_.size(); ++i) Open(i);
    const int64_t end = NowUs() + duration_us;
    int64_t next_sweep = NowUs() + 100'000;
    std::vector<epoll_event> events(1024);
    while (NowUs() < end) {
      int n = epoll_wait(epoll_, events.data(), events.size(), 10);
      for (int i = 0; i < n; ++i)
        Progress(events[i].data.u64, events[i].events);
      if (NowUs() >= next_sweep) {
        SweepTimeouts();
        next_sweep = NowUs() + 100'000;
      }
    }
    // A request still unanswered counts toward its connection's longest
    // wait: a connection the server never served must not look fast.
    const int64_t now = NowUs();
    for (Connection& c : connections_) {
      if (c.in_flight && now - c.sent_at_us > c.longest_wait_us) {
        c.longest_wait_us = now - c.sent_at_us;
      }
    }
  }

  const std::vector<Connection>& connections() const { return connections_; }
  const Counts& counts() const { return counts_; }

 private:
  void Open(size_t i) {
    Connection& c = connections_[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c.connected = false;
    c.in_flight = false;
    c.in.clear();
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_),
                sizeof(addr_)) != 0 &&
        errno != EINPROGRESS) {
      ++counts_.connect_errors;
      Reopen(i, /*count=*/false);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ev.data.u64 = i;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  // Closes and opens again; `count` says whether an unanswered request
  // is a read error.
  void Reopen(size_t i, bool count) {
    Connection& c = connections_[i];
    if (count && c.in_flight) ++counts_.read_errors;
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    // A refused connect is retried on the next sweep, not in a tight loop.
    if (count || c.connected) {
      Open(i);
    } else {
      retry_.push_back(i);
    }
  }

  void Progress(size_t i, uint32_t events) {
    Connection& c = connections_[i];
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++counts_.connect_errors;
        Reopen(i, /*count=*/false);
        return;
      }
      if (!(events & EPOLLOUT)) return;
      c.connected = true;
      Send(c);
    }
    if (c.written < c.out.size() && !Write(c)) return Reopen(i, true);
    char buf[16384];
    for (;;) {
      ssize_t n = read(c.fd, buf, sizeof(buf));
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      return Reopen(i, true);  // EOF or reset
    }
    bool close_after = false;
    while (TakeResponse(c, &close_after)) {
      if (close_after) return Reopen(i, false);
      Send(c);
      if (c.written < c.out.size() && !Write(c)) return Reopen(i, true);
    }
  }

  void Send(Connection& c) {
    c.out = "GET /products/" + std::to_string(product_(rng_)) +
            " HTTP/1.1\r\nHost: " + host_ + "\r\n\r\n";
    c.written = 0;
    c.in_flight = true;
    c.sent_at_us = NowUs();
    Write(c);
  }

  bool Write(Connection& c) {
    while (c.written < c.out.size()) {
      ssize_t n =
          write(c.fd, c.out.data() + c.written, c.out.size() - c.written);
      if (n > 0) {
        c.written += static_cast<size_t>(n);
        continue;
      }
      return n < 0 && errno == EAGAIN;
    }
    return true;
  }

  // Takes one whole response off the input, if there is one.
  bool TakeResponse(Connection& c, bool* close_after) {
    size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos || !c.in_flight) return false;
    std::string head = c.in.substr(0, head_end);
    for (char& ch : head) ch = static_cast<char>(tolower(ch));
    size_t length_at = head.find("\r\ncontent-length:");
    size_t length =
        length_at == std::string::npos
            ? 0
            : std::strtoul(head.c_str() + length_at + 17, nullptr, 10);
    if (c.in.size() < head_end + 4 + length) return false;
    int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
    if (status < 200 || status > 299) ++counts_.non_2xx;
    *close_after = head.find("\r\nconnection: close") != std::string::npos;
    c.in.erase(0, head_end + 4 + length);
    int64_t wait = NowUs() - c.sent_at_us;
    if (wait > c.longest_wait_us) c.longest_wait_us = wait;
    c.in_flight = false;
    ++c.requests;
    ++counts_.requests;
    return true;
  }

  void SweepTimeouts() {
    const int64_t now = NowUs();
    for (size_t i = 0; i < connections_.size(); ++i) {
      Connection& c = connections_[i];
      if (c.fd >= 0 && c.in_flight && now - c.sent_at_us > timeout_us_) {
        if (timeout_us_ > c.longest_wait_us) c.longest_wait_us = timeout_us_;
        ++counts_.timeouts;
        c.in_flight = false;
        Reopen(i, false);
      }
    }
    std::vector<size_t> retry;
    retry.swap(retry_);
    for (size_t i : retry) Open(i);
  }

  const sockaddr_in addr_;
  const std::string host_;
  const int64_t timeout_us_;
  std::vector<Connection> connections_;
  std::vector<size_t> retry_;
  int epoll_;
  Counts counts_;
  std::mt19937 rng_{42};
  std::uniform_int_distribution<int> product_{1, 500};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT CONNECTIONS SECONDS TIMEOUT_SECONDS "
                 "OUT_FILE\n",
                 argv[0]);
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
    std::fprintf(stderr, "conn_stats: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  Client client(addr, argv[1], std::atoi(argv[3]),
                std::atoll(argv[5]) * 1'000'000);
  client.Run(std::atoll(argv[4]) * 1'000'000);

  FILE* out = std::fopen(argv[6], "w");
  if (out == nullptr) {
    std::perror(argv[6]);
    return 1;
  }
  for (const Connection& c : client.connections()) {
    std::fprintf(out, "%llu %lld\n",
                 static_cast<unsigned long long>(c.requests),
                 static_cast<long long>(c.longest_wait_us));
  }
  std::fclose(out);
  const Counts& n = client.counts();
  std::printf("%llu %llu %llu %llu %llu\n",
              static_cast<unsigned long long>(n.requests),
              static_cast<unsigned long long>(n.connect_errors),
              static_cast<unsigned long long>(n.read_errors),
              static_cast<unsigned long long>(n.timeouts),
              static_cast<unsigned long long>(n.non_2xx));
  return 0;
}
