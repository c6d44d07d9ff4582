#include "master/config_generations.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace corral::master {
namespace {

// A sealed memfd: workers can read it but nobody can change it any more.
int SealedCopy(const std::string& text) {
  int fd = memfd_create("corral-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    off += static_cast<size_t>(n);
  }
  fcntl(fd, F_ADD_SEALS,
        F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

}  // namespace

ConfigGenerations::~ConfigGenerations() {
  for (const auto& [g, fd] : fds_) close(fd);
}

ConfigGenerations::Outcome ConfigGenerations::Reject(std::string error) {
  ++rejected_;
  last_error_ = std::move(error);
  last_error_unix_ns_ = clock_.UnixNow();
  Outcome out;
  out.kind = Outcome::Kind::kRejected;
  out.error = last_error_;
  out.generation = generation_;
  out.hash = hash_;
  return out;
}

ConfigGenerations::Outcome ConfigGenerations::Preview(
    const absl::StatusOr<config::Snapshot>& snapshot) const {
  Outcome out;
  out.generation = generation_;
  out.hash = hash_;
  if (!snapshot.ok()) {
    out.kind = Outcome::Kind::kRejected;
    out.error = snapshot.status().ToString();
    return out;
  }
  auto parsed = config::Config::Parse(spec_, *snapshot);
  if (!parsed.ok()) {
    out.kind = Outcome::Kind::kRejected;
    out.error = std::string(parsed.status().message());
  } else if (generation_ > 0 && parsed->hash == hash_) {
    out.kind = Outcome::Kind::kUnchanged;
  } else {
    out.kind = Outcome::Kind::kAccepted;
    out.hash = parsed->hash;
  }
  return out;
}

ConfigGenerations::Outcome ConfigGenerations::Offer(
    const absl::StatusOr<config::Snapshot>& snapshot,
    const std::string& source) {
  if (!snapshot.ok()) return Reject(snapshot.status().ToString());
  auto parsed = config::Config::Parse(spec_, *snapshot);
  if (!parsed.ok()) return Reject(std::string(parsed.status().message()));
  Outcome out;
  if (generation_ > 0 && parsed->hash == hash_) {
    out.kind = Outcome::Kind::kUnchanged;
  } else {
    int fd = SealedCopy(config::SnapshotToJson(*snapshot));
    if (fd < 0) return Reject("cannot keep a copy of the config (memfd)");
    ++generation_;
    hash_ = parsed->hash;
    fds_[generation_] = fd;
    hashes_[generation_] = hash_;
    changed_unix_ns_ = clock_.UnixNow();
    source_ = source;
    out.kind = Outcome::Kind::kAccepted;
    out.keys = parsed->present();
    out.ignored = parsed->ignored();
  }
  out.generation = generation_;
  out.hash = hash_;
  return out;
}

int ConfigGenerations::FdFor(int64_t generation) const {
  auto it = fds_.find(generation);
  return it == fds_.end() ? -1 : it->second;
}

std::string ConfigGenerations::HashFor(int64_t generation) const {
  auto it = hashes_.find(generation);
  return it == hashes_.end() ? std::string() : it->second;
}

void ConfigGenerations::Prune(const std::set<int64_t>& in_use) {
  for (auto it = fds_.begin(); it != fds_.end();) {
    if (it->first != generation_ && !in_use.count(it->first)) {
      close(it->second);
      hashes_.erase(it->first);
      it = fds_.erase(it);
    } else {
      ++it;
    }
  }
}

nlohmann::json ConfigGenerations::StatusJson() const {
  nlohmann::json j = {{"generation", generation_},
                      {"hash", hash_},
                      {"source", source_},
                      {"changed_at", clock::IsoTime(changed_unix_ns_)},
                      {"rejected_total", rejected_}};
  if (!last_error_.empty()) {
    j["last_rejection"] = {{"error", last_error_},
                           {"at", clock::IsoTime(last_error_unix_ns_)}};
  } else {
    j["last_rejection"] = nullptr;
  }
  return j;
}

}  // namespace corral::master
