// App configuration: the keys an app declares (a ConfigMap's file names), their
// types and defaults, and its own validation. A Config is one generation of
// it, parsed from a snapshot of the config directory and never changed: a new
// generation means new workers.
#ifndef CORRAL_CONFIG_CONFIG_H_
#define CORRAL_CONFIG_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace corral::config {

enum class KeyType { kJson, kString, kInt, kDouble, kBool };

struct KeySpec {
  std::string name;  // the file name, e.g. "sale.json"
  KeyType type = KeyType::kString;
  std::string default_value;  // as the file would hold it
  std::string help;
};

class Config;

struct ConfigSpec {
  std::vector<KeySpec> keys;
  // The app's own rules (a discount must not be negative...). Called with the
  // typed values; an error rejects the whole snapshot.
  std::function<absl::Status(const Config&)> validate;
};

// File name -> content, as read from the directory at one instant.
using Snapshot = std::map<std::string, std::string>;

// A stable content hash of a snapshot (16 hex digits).
std::string HashSnapshot(const Snapshot& snapshot);

class Config {
 public:
  Config() = default;

  // Types every declared key (a missing key takes its default), then runs the
  // app's validation. The error lists every problem found.
  static absl::StatusOr<Config> Parse(const ConfigSpec& spec,
                                      const Snapshot& snapshot);

  // The typed value of a declared key.
  const nlohmann::json& Get(const std::string& key) const;
  // Keys that were present in the snapshot (not defaulted).
  const std::vector<std::string>& present() const { return present_; }
  const std::vector<std::string>& ignored() const { return ignored_; }

  std::string hash;
  int64_t generation = 0;

 private:
  std::map<std::string, nlohmann::json> values_;
  std::vector<std::string> present_;
  std::vector<std::string> ignored_;
};

// Snapshots travel from master to worker as JSON.
std::string SnapshotToJson(const Snapshot& snapshot);
absl::StatusOr<Snapshot> SnapshotFromJson(const std::string& text);

}  // namespace corral::config

#endif  // CORRAL_CONFIG_CONFIG_H_
