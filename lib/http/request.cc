#include "http/request.h"

#include "absl/strings/match.h"

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

}  // namespace corral::http
