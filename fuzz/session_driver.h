// Drives one real corral::http::Session over a socketpair with a fuzzer's
// bytes as the client: the input, split into writes at each "\0\0", goes in
// one write at a time, each followed by as many turns of the event loop as
// the session takes; then the client shuts down its sending side and the
// loop runs until the session has closed. Two writes stand for events of
// the worker instead: an empty one (two markers in a row) drains, as on
// SIGTERM; one of just "\x7f" runs the timeout sweep ten minutes on, so
// every timeout has passed. What came back must be whole
// HTTP/1.1 (or 1.0) responses, one for each request the session started,
// nothing after one that said the connection closes, and the session must
// be gone at the end. Any failure is __builtin_trap(), a crash to libFuzzer.
#ifndef CORRAL_FUZZ_SESSION_DRIVER_H_
#define CORRAL_FUZZ_SESSION_DRIVER_H_

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"
#include "http/session.h"

namespace corral::fuzz {

// Where the input is cut into separate writes; NUL is never valid in a
// request's head, so the marker costs the request line and fields nothing.
inline constexpr std::string_view kWriteMarker{"\0\0", 2};
inline constexpr std::string_view kSweepWrite{"\x7f"};

// The methods of the requests the session started, in order: a response to
// HEAD has no body, and each started request must get one answer.
class RecordingObserver : public http::SessionObserver {
 public:
  void OnRequestStart(const http::Request& request) override {
    methods.push_back(request.method);
  }
  void OnRequestEnd(const http::Request&, std::string_view, int,
                    int64_t) override {
    ++ended;
  }
  std::vector<std::string> methods;
  size_t ended = 0;
};

inline std::vector<std::string_view> SplitWrites(std::string_view input) {
  std::vector<std::string_view> writes;
  for (;;) {
    size_t cut = input.find(kWriteMarker);
    writes.push_back(input.substr(0, cut));
    if (cut == std::string_view::npos) break;
    input.remove_prefix(cut + kWriteMarker.size());
  }
  return writes;
}

// Appends what the client side can read now; the count of bytes read.
inline size_t ReadAvailable(int fd, std::string* received) {
  size_t total = 0;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      received->append(buffer, static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return total;
  }
}

// Every byte the session sent parses as a sequence of responses, one per
// started request (1xx interim answers aside).
inline void CheckResponses(std::string_view received,
                           const std::vector<std::string>& methods) {
  namespace bhttp = boost::beast::http;
  size_t answered = 0;
  while (!received.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    parser.eager(true);
    // Beast needs telling that a response to HEAD has no body.
    parser.skip(answered < methods.size() && methods[answered] == "HEAD");
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      size_t n = 0;
      if (!received.empty()) {
        n = parser.put(boost::asio::buffer(received.data(), received.size()),
                       ec);
        received.remove_prefix(n);
        if (ec && ec != bhttp::error::need_more) __builtin_trap();  // not HTTP
      }
      if (n == 0) {
        // The bytes end here: only a body delimited by the close may.
        parser.put_eof(ec);
        if (ec) __builtin_trap();  // a truncated response
        break;
      }
    }
    const auto& response = parser.get();
    if (response.version() != 11 && response.version() != 10) __builtin_trap();
    if (response.result_int() / 100 == 1) continue;  // 100 Continue
    ++answered;
    // After an answer that closes the connection, nothing may follow.
    if (!response.keep_alive() && !received.empty()) __builtin_trap();
  }
  if (answered != methods.size()) __builtin_trap();
}

// Runs `input` through a session serving `router`. `*loop`, when given, is
// the event loop while it runs, for handlers that answer later.
inline void DriveSession(std::string_view input, const http::Router& router,
                         const http::SessionLimits& limits,
                         boost::asio::io_context** loop = nullptr) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) != 0) {
    return;
  }
  const int client = fds[0];
  boost::asio::io_context io(1);
  if (loop != nullptr) *loop = &io;
  RecordingObserver observer;
  std::weak_ptr<http::Session> watched;
  {
    // Declared after io: its timer and poller go before the io_context.
    http::ConnectionSet connections;
    std::string received;
    // Turns of the loop until nothing happens, reading the answers so a
    // full socket never stalls the session.
    auto pump = [&] {
      for (int turns = 0; turns < 10000; ++turns) {
        io.restart();
        size_t progress = io.poll();
        progress += ReadAvailable(client, &received);
        if (progress == 0) return;
      }
      __builtin_trap();  // the session never goes quiet
    };
    {
      auto session = std::make_shared<http::Session>(
          fds[1], io.get_executor(), router, limits, &observer, &connections);
      watched = session;
      session->Start();
    }
    pump();
    for (std::string_view write : SplitWrites(input)) {
      if (write.empty()) {
        connections.DrainAll();
      } else if (write == kSweepWrite) {
        connections.Sweep(std::chrono::steady_clock::now() +
                          std::chrono::minutes(10));
        write = {};
      }
      while (!write.empty()) {
        ssize_t n = ::send(client, write.data(), write.size(), MSG_NOSIGNAL);
        if (n > 0) {
          write.remove_prefix(static_cast<size_t>(n));
        } else if (n < 0 && errno == EAGAIN) {
          pump();
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          break;  // the session closed: the rest has nowhere to go
        }
        if (watched.expired()) break;
      }
      pump();
    }
    ::shutdown(client, SHUT_WR);
    pump();
    // With the client's side shut, every state ends in a close: a session
    // still here would hold its connection forever.
    if (!watched.expired()) __builtin_trap();
    ReadAvailable(client, &received);
    // To see what a reproducer got: CORRAL_FUZZ_VERBOSE=1 fuzz_session FILE
    static const bool verbose = std::getenv("CORRAL_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
      std::fprintf(stderr, "requests started: %zu\n--- received:\n%s\n---\n",
                   observer.methods.size(), received.c_str());
    }
    CheckResponses(received, observer.methods);
    if (observer.ended != observer.methods.size()) __builtin_trap();
  }
  ::close(client);
  if (loop != nullptr) *loop = nullptr;
}

// One fuzzer input through a session on `router`, with a small body limit
// so that 413 is within the fuzzer's reach.
inline int FuzzOneInput(const uint8_t* data, size_t size,
                        const http::Router& router,
                        boost::asio::io_context** current_io) {
  static const http::SessionLimits limits = [] {
    http::SessionLimits l;
    l.max_body_bytes = 4096;
    return l;
  }();
  DriveSession(std::string_view(reinterpret_cast<const char*>(data), size),
               router, limits, current_io);
  return 0;
}

}  // namespace corral::fuzz

#endif  // CORRAL_FUZZ_SESSION_DRIVER_H_
