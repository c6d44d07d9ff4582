// Reads from an app process's connection with the time the kernel received
// the bytes (SO_TIMESTAMPNS), not the time this worker got round to them.
// The adaptive limit steers by the app's latency; measured when the answer
// is read, it would include however long this proxy worker's event loop
// was busy elsewhere, and on CPUs shared with the app (a pod) that is as
// much as the app's own latency: a page the app serves in 0.3 ms measured
// 34-48 ms under load, and the limit followed the proxy's load instead of
// the app's queue. TCP only: a unix socket gives no timestamp, and the
// read time stands.
#ifndef CORRAL_PROXY_STAMPED_READ_H_
#define CORRAL_PROXY_STAMPED_READ_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace corral::proxy {

// Asks the kernel to stamp what `fd` receives. False (errno set) when it
// cannot.
bool StampReceives(int fd);

// recv(2) of up to `size` bytes, non-blocking, that also sets
// `*received_unix_ns` (CLOCK_REALTIME) to when the kernel received the last
// of them, when it says so (left alone otherwise). Returns what recv does.
ssize_t ReceiveStamped(int fd, void* data, size_t size,
                       int64_t* received_unix_ns);

// When, on CLOCK_MONOTONIC, bytes stamped `received_unix_ns` arrived, read
// at `now_ns` / `now_unix_ns` (the two clocks, taken together): no earlier
// than `not_before_ns` (the request was sent then; the realtime clock may
// have been stepped) and no later than now.
int64_t ArrivedAt(int64_t received_unix_ns, int64_t now_ns, int64_t now_unix_ns,
                  int64_t not_before_ns);

}  // namespace corral::proxy

#endif  // CORRAL_PROXY_STAMPED_READ_H_
