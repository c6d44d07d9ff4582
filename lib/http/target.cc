#include "http/target.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace corral::http {
namespace {

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsSubDelim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// A byte a path or query may carry. Beyond RFC 3986's pchar, '/' and '?',
// the bytes that clients send unescaped in practice ('[', ']', '{', '}',
// '|', '^') pass; what no client has reason to send does not.
bool IsTargetChar(char c) {
  if (IsUnreserved(c) || IsSubDelim(c)) return true;
  return std::string_view(":@/?%[]{}|^").find(c) != std::string_view::npos;
}

bool IsHostChar(char c) { return IsUnreserved(c) || IsSubDelim(c) || c == '%'; }

}  // namespace

bool IsValidHost(std::string_view value) {
  if (value.empty()) return true;
  std::string_view host = value;
  std::string_view port;
  if (host.front() == '[') {  // IP-literal
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' &&
          c != '.') {
        return false;
      }
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    host = host.substr(0, close + 1);
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (host.empty()) return false;
    }
    for (char c : host) {
      if (!IsHostChar(c)) return false;
    }
  }
  if (port.size() > 5) return false;
  for (char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::optional<RequestTarget> ParseRequestTarget(std::string_view method,
                                                std::string_view target) {
  for (char c : target) {
    if (!IsTargetChar(c)) return std::nullopt;
  }
  if (target == "*") {
    if (method != "OPTIONS") return std::nullopt;
    return RequestTarget{std::string(target), std::nullopt};
  }
  if (!target.empty() && target.front() == '/') {
    return RequestTarget{std::string(target), std::nullopt};
  }
  // Absolute form: "http://" authority [ path-abempty ] [ "?" query ].
  std::string_view rest;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(
            absl::string_view(target.data(), target.size()),
            absl::string_view(scheme.data(), scheme.size()))) {
      rest = target.substr(scheme.size());
      break;
    }
  }
  if (rest.empty()) return std::nullopt;  // authority form or nonsense
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.empty() || !IsValidHost(authority)) return std::nullopt;
  std::string_view path =
      end == std::string_view::npos ? std::string_view() : rest.substr(end);
  std::string origin =
      absl::StrCat(path.empty() || path.front() == '?' ? "/" : "",
                   absl::string_view(path.data(), path.size()));
  return RequestTarget{std::move(origin), std::string(authority)};
}

}  // namespace corral::http
