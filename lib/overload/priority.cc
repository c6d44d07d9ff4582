#include "overload/priority.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace corral::overload {
namespace {

std::string_view Std(absl::string_view s) { return {s.data(), s.size()}; }

bool IsMethod(absl::string_view word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string> Segments(std::string_view path) {
  return absl::StrSplit(absl::string_view(path.data() + 1, path.size() - 1),
                        '/');
}

}  // namespace

std::string_view Name(Priority p) {
  return kPriorityNames[static_cast<size_t>(p)];
}

absl::StatusOr<PriorityRules> PriorityRules::Parse(std::string_view spec) {
  PriorityRules out;
  for (absl::string_view item :
       absl::StrSplit(absl::string_view(spec.data(), spec.size()), ',',
                      absl::SkipEmpty())) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    const size_t eq = item.rfind('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--priority: \"", item,
                       "\" is not MATCH=CLASS (say POST=high or "
                       "/products/{id}=low)"));
    }
    const absl::string_view match =
        absl::StripAsciiWhitespace(item.substr(0, eq));
    const absl::string_view name =
        absl::StripAsciiWhitespace(item.substr(eq + 1));
    Rule rule;
    bool known = false;
    for (size_t i = 0; i < kPriorityNames.size(); ++i) {
      if (Std(name) == kPriorityNames[i]) {
        rule.priority = static_cast<Priority>(i);
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("--priority: \"", name, "\" in \"", item,
                       "\" is not a class (high, normal or low)"));
    }
    std::vector<absl::string_view> words =
        absl::StrSplit(match, ' ', absl::SkipWhitespace());
    if (words.empty() || words.size() > 2 ||
        (words.size() == 2 && !IsMethod(words[0]))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--priority: \"", match,
          "\" is not a method, a route template or both (POST /checkout)"));
    }
    for (absl::string_view w : words) {
      if (IsMethod(w)) {
        rule.method = std::string(w);
      } else if (!w.empty() && w.front() == '/') {
        rule.any_path = false;
        rule.segments = Segments(Std(w));
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "--priority: \"", w,
            "\" is neither an upper-case method nor a template from /"));
      }
    }
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

bool PriorityRules::PathMatches(const Rule& rule, std::string_view path) {
  if (rule.any_path) return true;
  if (path.empty() || path.front() != '/') return false;
  const std::vector<std::string> segments = Segments(path);
  if (segments.size() != rule.segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& t = rule.segments[i];
    const bool param = t.size() >= 2 && t.front() == '{' && t.back() == '}';
    if (param ? segments[i].empty() : segments[i] != t) return false;
  }
  return true;
}

Priority PriorityRules::Classify(std::string_view method,
                                 std::string_view path) const {
  for (const Rule& rule : rules_) {
    if (!rule.method.empty() && rule.method != method) continue;
    if (PathMatches(rule, path)) return rule.priority;
  }
  return Priority::kNormal;
}

}  // namespace corral::overload
