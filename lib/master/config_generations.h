// The master's record of config generations: which snapshot is live, its
// number and hash, and a sealed copy of each generation still in use for the
// workers started for it.
#ifndef CORRAL_MASTER_CONFIG_GENERATIONS_H_
#define CORRAL_MASTER_CONFIG_GENERATIONS_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clock/clock.h"
#include "config/config.h"

namespace corral::master {

class ConfigGenerations {
 public:
  ConfigGenerations(const config::ConfigSpec& spec, const clock::Clock& clock)
      : spec_(spec), clock_(clock) {}
  ~ConfigGenerations();

  struct Outcome {
    enum class Kind { kAccepted, kUnchanged, kRejected } kind;
    int64_t generation = 0;  // the live generation after this offer
    std::string hash;
    std::string error;
    std::vector<std::string> keys;     // present in the snapshot
    std::vector<std::string> ignored;  // present but not declared by the app
  };

  // Validates a snapshot; a valid one with new content becomes the next
  // generation. `source` says where it came from, for /status. A snapshot
  // that could not be read is rejected like one that fails validation: every
  // rejection is counted and shown the same way.
  Outcome Offer(const absl::StatusOr<config::Snapshot>& snapshot,
                const std::string& source);

  // What Offer would do with `snapshot`, without doing it: kAccepted means
  // it is valid and new. Lets a slower check (--config-check) run first.
  Outcome Preview(const absl::StatusOr<config::Snapshot>& snapshot) const;
  // Rejects a change for a reason found outside (--config-check), counted
  // and shown like every other rejection.
  Outcome Reject(std::string error);

  // A read-only descriptor holding generation `g`'s snapshot as JSON, for a
  // worker to inherit; -1 if unknown.
  int FdFor(int64_t generation) const;
  std::string HashFor(int64_t generation) const;
  // Frees the copies of generations no worker uses any more; the live one is
  // always kept.
  void Prune(const std::set<int64_t>& in_use);

  int64_t generation() const { return generation_; }
  const std::string& hash() const { return hash_; }
  uint64_t rejected() const { return rejected_; }
  nlohmann::json StatusJson() const;

 private:
  const config::ConfigSpec& spec_;
  const clock::Clock& clock_;
  int64_t generation_ = 0;
  std::string hash_;
  std::map<int64_t, int> fds_;
  std::map<int64_t, std::string> hashes_;
  uint64_t rejected_ = 0;
  std::string last_error_;
  int64_t last_error_unix_ns_ = 0;
  int64_t changed_unix_ns_ = 0;
  std::string source_;
};

}  // namespace corral::master

#endif  // CORRAL_MASTER_CONFIG_GENERATIONS_H_
