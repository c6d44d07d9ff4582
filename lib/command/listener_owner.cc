#include "command/listener_owner.h"

#include <dirent.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "memory/process_memory.h"
#include "sysfs/read_file.h"

namespace corral::command {
namespace {

constexpr std::string_view kListen = "0A";  // TCP_LISTEN, as the kernel prints

// The whole of `text` as a number in `base`.
template <typename T>
std::optional<T> Number(std::string_view text, int base) {
  T v{};
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(text.data(), last, v, base);
  if (text.empty() || ec != std::errc() || end != last) return std::nullopt;
  return v;
}

// The kernel prints an address as its 32-bit words, each as the host reads
// it from memory ("%08X"): parsed the same way, a word equals the word of
// an in_addr / in6_addr in memory, on either byte order.
std::optional<std::array<uint32_t, 4>> Words(std::string_view hex) {
  std::array<uint32_t, 4> out{};
  if (hex.size() != 8 && hex.size() != 32) return std::nullopt;
  for (size_t i = 0; i * 8 < hex.size(); ++i) {
    std::optional<uint32_t> w = Number<uint32_t>(hex.substr(i * 8, 8), 16);
    if (!w) return std::nullopt;
    out[i] = *w;
  }
  return out;
}

bool ReachedFromLoopback(std::string_view hex) {
  std::optional<std::array<uint32_t, 4>> w = Words(hex);
  if (!w) return false;
  if (hex.size() == 8) {
    return (*w)[0] == htonl(INADDR_LOOPBACK) || (*w)[0] == htonl(INADDR_ANY);
  }
  in6_addr mapped{};
  mapped.s6_addr[10] = 0xff;
  mapped.s6_addr[11] = 0xff;
  const uint32_t loopback = htonl(INADDR_LOOPBACK);
  std::memcpy(&mapped.s6_addr[12], &loopback, sizeof(loopback));
  std::array<uint32_t, 4> mapped_words{};
  std::memcpy(mapped_words.data(), &mapped, sizeof(mapped));
  return *w == std::array<uint32_t, 4>{} || *w == mapped_words;
}

// Whether this process's /proc is of its own PID namespace: where it is
// not, the pids corral knows name other processes there.
bool ProcIsOurs() {
  std::array<char, 32> link{};
  ssize_t n = readlink("/proc/self", link.data(), link.size() - 1);
  return n > 0 && std::string_view(link.data(), static_cast<size_t>(n)) ==
                      std::to_string(getpid());
}

// Whether `pid` holds one of `links` ("socket:[INODE]") as a descriptor;
// nullopt when its descriptors cannot be read.
std::optional<bool> HoldsOneOf(pid_t pid, const std::set<std::string>& links) {
  const std::string fds = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fds.c_str());
  if (dir == nullptr) return std::nullopt;
  bool found = false;
  std::array<char, 64> target{};
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = absl::StrCat(fds, "/", e->d_name);
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n <= 0) continue;
    if (links.count(std::string(target.data(), static_cast<size_t>(n)))) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace

std::vector<uint64_t> LoopbackListenerInodes(std::string_view proc_net_tcp,
                                             uint16_t port) {
  std::vector<uint64_t> out;
  // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout
  // inode ...", after a header line.
  const absl::string_view text(proc_net_tcp.data(), proc_net_tcp.size());
  for (absl::string_view line :
       absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::vector<std::string_view> f;
    for (absl::string_view field :
         absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      f.emplace_back(field.data(), field.size());
    }
    if (f.size() < 10 || f[3] != kListen) continue;
    const size_t colon = f[1].find(':');
    if (colon == std::string_view::npos) continue;
    std::optional<uint16_t> local_port =
        Number<uint16_t>(f[1].substr(colon + 1), 16);
    std::optional<uint64_t> inode = Number<uint64_t>(f[9], 10);
    if (!local_port || !inode || *local_port != port || *inode == 0 ||
        !ReachedFromLoopback(f[1].substr(0, colon))) {
      continue;
    }
    out.push_back(*inode);
  }
  return out;
}

ListenerOwner LoopbackListenerOwner(pid_t pid, uint16_t port) {
  if (!ProcIsOurs()) return ListenerOwner::kUnknown;
  // The tables of the app's network namespace.
  const std::string net = absl::StrCat("/proc/", pid, "/net/");
  std::optional<std::string> tcp = sysfs::ReadFile(net + "tcp");
  std::optional<std::string> tcp6 = sysfs::ReadFile(net + "tcp6");
  if (!tcp && !tcp6) return ListenerOwner::kUnknown;
  std::set<std::string> links;
  for (const std::optional<std::string>& table : {tcp, tcp6}) {
    if (!table) continue;
    for (uint64_t inode : LoopbackListenerInodes(*table, port)) {
      links.insert(absl::StrCat("socket:[", inode, "]"));
    }
  }
  if (links.empty()) return ListenerOwner::kOther;
  // A process whose descriptors cannot be read (gone since, or another
  // user's) may hold it: then /proc cannot tell.
  bool all_read = true;
  for (pid_t p : memory::ProcessTree(pid)) {
    std::optional<bool> holds = HoldsOneOf(p, links);
    if (holds && *holds) return ListenerOwner::kTree;
    if (!holds) all_read = false;
  }
  // Without the kernel's children lists (CONFIG_PROC_CHILDREN) the tree is
  // `pid` alone, and the listener may be a child's (npm start, a shell).
  const bool tree_known =
      sysfs::ReadFile(absl::StrCat("/proc/", pid, "/task/", pid, "/children"))
          .has_value();
  return all_read && tree_known ? ListenerOwner::kOther
                                : ListenerOwner::kUnknown;
}

}  // namespace corral::command
