// Whose is the socket listening on an app process's port. corral picks a
// free port for each copy and then waits until something accepts there;
// another program can take the port in between, and its listener must not
// make the copy ready (the copy then fails to bind and exits). The kernel
// tells which socket listens on a port (/proc/PID/net/tcp, tcp6: its
// inode) and which process holds it (a /proc/PID/fd link "socket:[INODE]").
#ifndef CORRAL_COMMAND_LISTENER_OWNER_H_
#define CORRAL_COMMAND_LISTENER_OWNER_H_

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace corral::command {

// The inodes of the sockets in /proc/net/tcp or tcp6 text that listen on
// `port` at an address a connection to 127.0.0.1 reaches: 127.0.0.1,
// 0.0.0.0, :: or ::ffff:127.0.0.1.
std::vector<uint64_t> LoopbackListenerInodes(std::string_view proc_net_tcp,
                                             uint16_t port);

enum class ListenerOwner {
  kTree,     // `pid` or a process below it holds the listening socket
  kOther,    // no listener there is theirs
  kUnknown,  // /proc cannot tell: not mounted, another PID namespace's
             // (a container runtime that mounts none), or unreadable
};

// Whose is the listener on 127.0.0.1:`port`, for the process `pid` (of
// this process's PID namespace) and its descendants.
ListenerOwner LoopbackListenerOwner(pid_t pid, uint16_t port);

}  // namespace corral::command

#endif  // CORRAL_COMMAND_LISTENER_OWNER_H_
