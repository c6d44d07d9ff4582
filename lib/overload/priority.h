// Request classes for shedding: who waits for an app process ahead of whom
// and who is shed first (Google SRE's criticality, three of them). Rules
// from --priority map methods and/or route templates to a class; the
// default puts the unsafe methods (a checkout, a form sent) above reads.
#ifndef CORRAL_OVERLOAD_PRIORITY_H_
#define CORRAL_OVERLOAD_PRIORITY_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace corral::overload {

// Higher is served first and shed last.
enum class Priority { kLow = 0, kNormal = 1, kHigh = 2 };
inline constexpr std::array<std::string_view, 3> kPriorityNames = {
    "low", "normal", "high"};
inline constexpr int kPriorities = static_cast<int>(kPriorityNames.size());
std::string_view Name(Priority p);

inline constexpr std::string_view kDefaultPriority =
    "POST=high,PUT=high,PATCH=high,DELETE=high";

class PriorityRules {
 public:
  // "MATCH=CLASS,..." where MATCH is a method (POST), a route template
  // (/products/{id}) or both (POST /checkout); the first rule that matches
  // decides, and a request none matches is normal. Empty: all normal.
  static absl::StatusOr<PriorityRules> Parse(std::string_view spec);

  Priority Classify(std::string_view method, std::string_view path) const;

 private:
  struct Rule {
    std::string method;                 // empty: any
    std::vector<std::string> segments;  // empty with no template: any path
    bool any_path = true;
    Priority priority = Priority::kNormal;
  };
  static bool PathMatches(const Rule& rule, std::string_view path);

  std::vector<Rule> rules_;
};

}  // namespace corral::overload

#endif  // CORRAL_OVERLOAD_PRIORITY_H_
