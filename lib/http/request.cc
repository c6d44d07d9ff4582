#include "http/request.h"

#include "absl/strings/match.h"
#include "http/percent.h"

namespace corral::http {

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key,
                               absl::string_view(name.data(), name.size())))
      return value;
  }
  return {};
}

std::optional<std::string_view> Request::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view()
                                         : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, eq), true);
    if (!key.has_value() || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return PercentDecode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string_view Request::RawPath() const {
  if (target.empty()) return path;
  return std::string_view(target).substr(0, target.find('?'));
}

}  // namespace corral::http
