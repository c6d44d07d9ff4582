#include "config/config.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace corral::config {
namespace {

const char* TypeName(KeyType t) {
  switch (t) {
    case KeyType::kJson:
      return "JSON";
    case KeyType::kString:
      return "a string";
    case KeyType::kInt:
      return "an integer";
    case KeyType::kDouble:
      return "a number";
    case KeyType::kBool:
      return "true or false";
  }
  return "?";
}

absl::StatusOr<nlohmann::json> Typed(const KeySpec& key,
                                     const std::string& raw) {
  std::string text(absl::StripAsciiWhitespace(raw));
  auto bad = [&](std::string detail) {
    return absl::InvalidArgumentError(absl::StrCat(
        key.name, ": expected ", TypeName(key.type), detail.empty() ? "" : " (",
        detail, detail.empty() ? "" : ")"));
  };
  switch (key.type) {
    case KeyType::kJson: {
      nlohmann::json j = nlohmann::json::parse(raw, nullptr, false);
      if (j.is_discarded()) return bad("the content is not valid JSON");
      return j;
    }
    case KeyType::kString:
      return nlohmann::json(raw);
    case KeyType::kInt: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v))
        return bad(absl::StrCat("got \"", text, "\""));
      return nlohmann::json(v);
    }
    case KeyType::kDouble: {
      double v = 0;
      if (!absl::SimpleAtod(text, &v))
        return bad(absl::StrCat("got \"", text, "\""));
      return nlohmann::json(v);
    }
    case KeyType::kBool: {
      bool v = false;
      if (!absl::SimpleAtob(text, &v))
        return bad(absl::StrCat("got \"", text, "\""));
      return nlohmann::json(v);
    }
  }
  return bad("");
}

}  // namespace

std::string HashSnapshot(const Snapshot& snapshot) {
  // FNV-1a over name and content with their lengths, so ("ab","c") and
  // ("a","bc") differ; stable across processes and builds.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::string_view s) {
    std::string len = std::to_string(s.size()) + ":";
    for (char c : len)
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  };
  for (const auto& [name, content] : snapshot) {
    mix(name);
    mix(content);
  }
  return absl::StrFormat("%016x", h);
}

absl::StatusOr<Config> Config::Parse(const ConfigSpec& spec,
                                     const Snapshot& snapshot) {
  Config c;
  c.hash = HashSnapshot(snapshot);
  std::vector<std::string> problems;
  for (const KeySpec& key : spec.keys) {
    auto it = snapshot.find(key.name);
    bool present = it != snapshot.end();
    auto value = Typed(key, present ? it->second : key.default_value);
    if (!value.ok()) {
      problems.push_back(std::string(value.status().message()));
      continue;
    }
    c.values_[key.name] = std::move(*value);
    if (present) c.present_.push_back(key.name);
  }
  for (const auto& [name, content] : snapshot) {
    bool declared = false;
    for (const KeySpec& key : spec.keys) declared |= key.name == name;
    if (!declared) c.ignored_.push_back(name);
  }
  std::sort(c.present_.begin(), c.present_.end());
  if (problems.empty() && spec.validate) {
    absl::Status s = spec.validate(c);
    if (!s.ok()) problems.push_back(std::string(s.message()));
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  return c;
}

const nlohmann::json& Config::Get(const std::string& key) const {
  static const nlohmann::json kNull;
  auto it = values_.find(key);
  return it == values_.end() ? kNull : it->second;
}

std::string SnapshotToJson(const Snapshot& snapshot) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, content] : snapshot) j[name] = content;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<Snapshot> SnapshotFromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("config snapshot is not a JSON object");
  }
  Snapshot s;
  for (const auto& [name, content] : j.items()) {
    if (!content.is_string()) {
      return absl::InvalidArgumentError(
          "config snapshot values must be strings");
    }
    s[name] = content.get<std::string>();
  }
  return s;
}

}  // namespace corral::config
