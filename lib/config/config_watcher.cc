#include "config/config_watcher.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "log/log.h"

namespace corral::config {
namespace {

constexpr uint32_t kMask = IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                           IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF |
                           IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::chrono::milliseconds kRewatchPeriod{500};

}  // namespace

bool IsRelevantEvent(std::string_view name, uint32_t mask) {
  // The kubelet's commit is the rename of ..data_tmp onto ..data; every other
  // ..name is its scaffolding and changes nothing by itself.
  if (name == "..data") return (mask & IN_MOVED_TO) != 0;
  if (name.empty() || name[0] == '.') return false;  // editor swap files too
  return (mask & (IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                  IN_CLOSE_WRITE | IN_ATTRIB)) != 0;
}

std::string DirFingerprint(const std::string& dir) {
  char target[4096];
  ssize_t n = readlink((dir + "/..data").c_str(), target, sizeof(target));
  if (n >= 0) return "..data -> " + std::string(target, static_cast<size_t>(n));
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::StrCat("unreadable: ", std::strerror(errno));
  std::set<std::string> entries;  // sorted: readdir's order is not stable
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    struct stat st;
    if (stat((dir + "/" + e->d_name).c_str(), &st) != 0) {
      entries.insert(absl::StrCat(e->d_name, " gone"));
      continue;
    }
    entries.insert(absl::StrCat(e->d_name, " ", st.st_size, " ",
                                st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, " ",
                                st.st_ino));
  }
  closedir(d);
  return absl::StrJoin(entries, "\n");
}

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, std::string dir,
                             std::chrono::milliseconds debounce,
                             std::function<void(std::string_view)> on_change)
    : dir_(std::move(dir)),
      debounce_(debounce),
      on_change_(std::move(on_change)),
      inotify_(io),
      debounce_timer_(io),
      rewatch_timer_(io),
      poll_timer_(io) {}

ConfigWatcher::~ConfigWatcher() {
  boost::system::error_code ec;
  inotify_.close(ec);
}

void ConfigWatcher::Start(std::chrono::milliseconds poll_period) {
  absl::Status s = StartInotify();
  if (s.ok()) return;
  boost::system::error_code ec;
  inotify_.close(ec);
  polling_ = true;
  poll_period_ = poll_period;
  fingerprint_ = DirFingerprint(dir_);
  log::Warn("inotify is unavailable; polling the config dir instead",
            {{"config_dir", dir_},
             {"error", std::string(s.message())},
             {"poll_seconds", poll_period.count() / 1000.0}});
  Poll();
}

void ConfigWatcher::Poll() {
  poll_timer_.expires_after(poll_period_);
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    std::string now = DirFingerprint(dir_);
    if (now != fingerprint_) {
      fingerprint_ = std::move(now);
      Changed("config dir changed (polled)");
    }
    Poll();
  });
}

absl::Status ConfigWatcher::StartInotify() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("inotify_init1: ", std::strerror(errno)));
  }
  inotify_.assign(fd);
  watch_ = inotify_add_watch(fd, dir_.c_str(), kMask);
  if (watch_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot watch ", dir_, ": ", std::strerror(errno)));
  }
  WaitForEvents();
  return absl::OkStatus();
}

void ConfigWatcher::WaitForEvents() {
  inotify_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](boost::system::error_code ec) {
                        if (ec) return;
                        OnEvents();
                        WaitForEvents();
                      });
}

void ConfigWatcher::OnEvents() {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = read(inotify_.native_handle(), buf, sizeof(buf));
    if (n <= 0) break;  // EAGAIN: all read
    for (char* p = buf; p < buf + n;) {
      auto* e = reinterpret_cast<inotify_event*>(p);
      std::string_view name =
          e->len ? std::string_view(e->name) : std::string_view();
      if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        if (watch_ >= 0 && e->wd == watch_) {
          log::Warn("config dir was removed or replaced; watching for it",
                    {{"config_dir", dir_}});
          inotify_rm_watch(inotify_.native_handle(), watch_);
          watch_ = -1;
          Rewatch();
        }
      } else if (e->mask & IN_Q_OVERFLOW) {
        Changed("inotify queue overflow");
      } else if (IsRelevantEvent(name, e->mask)) {
        Changed(name == "..data" ? std::string_view("..data swapped") : name);
      }
      p += sizeof(inotify_event) + e->len;
    }
  }
}

void ConfigWatcher::Rewatch() {
  rewatch_timer_.expires_after(kRewatchPeriod);
  rewatch_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    struct stat st;
    if (watch_ < 0 && stat(dir_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      watch_ = inotify_add_watch(inotify_.native_handle(), dir_.c_str(), kMask);
    }
    if (watch_ < 0) {
      Rewatch();
      return;
    }
    log::Info("config dir is back; watching it again", {{"config_dir", dir_}});
    Changed("config dir replaced");
  });
}

void ConfigWatcher::Changed(std::string_view why) {
  if (pending_why_.empty()) pending_why_ = std::string(why);
  // Every event pushes the deadline back: one reload per burst.
  debounce_timer_.expires_after(debounce_);
  debounce_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    std::string why = std::move(pending_why_);
    pending_why_.clear();
    on_change_(why);
  });
}

}  // namespace corral::config
