#include "proxy/forward.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace corral::proxy {
namespace {

// This absl's string_view is not std::string_view.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

std::string_view ConnectionValue(const http::Headers& fields) {
  for (const auto& [name, value] : fields) {
    if (absl::EqualsIgnoreCase(name, "connection")) return value;
  }
  return {};
}

// Forwarded's node syntax: an IPv6 address is bracketed and quoted.
std::string ForwardedFor(std::string_view address) {
  if (address.find(':') != std::string_view::npos) {
    return absl::StrCat("for=\"[", A(address), "]\"");
  }
  return absl::StrCat("for=", A(address));
}

}  // namespace

bool IsHopByHop(std::string_view name, std::string_view connection) {
  for (std::string_view fixed : {"connection", "keep-alive", "proxy-connection",
                                 "te", "transfer-encoding", "upgrade"}) {
    if (absl::EqualsIgnoreCase(A(name), A(fixed))) return true;
  }
  // Fields that frame or address the message are end to end whatever
  // Connection names: dropping Host would let any client look local, and
  // dropping the framing would desynchronise the next hop.
  for (std::string_view never : {"host", "content-length"}) {
    if (absl::EqualsIgnoreCase(A(name), A(never))) return false;
  }
  for (absl::string_view token : absl::StrSplit(A(connection), ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(token), A(name))) {
      return true;
    }
  }
  return false;
}

namespace {

// RFC 9110 5.6.2: a token's characters.
bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        absl::string_view("!#$%&'*+-.^_`|~").find(c) ==
            absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

ResponseFraming CheckResponseFraming(int status, const http::Headers& fields) {
  ResponseFraming out;
  if (status < 100 || status > 599) {
    out.problem = absl::StrCat("the app answered with status ", status);
    return out;
  }
  bool has_length = false;
  std::vector<std::string> codings;
  for (const auto& [name, value] : fields) {
    if (absl::EqualsIgnoreCase(name, "content-length")) has_length = true;
    if (!absl::EqualsIgnoreCase(name, "transfer-encoding")) continue;
    for (absl::string_view token : absl::StrSplit(A(value), ',')) {
      token = absl::StripAsciiWhitespace(token);
      if (!token.empty()) codings.emplace_back(token);
    }
  }
  if (codings.empty()) return out;
  for (const std::string& coding : codings) {
    // Passed on to the client, so it must be what a client can parse: a
    // coding's name, no parameters.
    if (!IsToken(coding)) {
      out.problem =
          "the app's Transfer-Encoding names a coding that is not "
          "a token";
      return out;
    }
  }
  if (has_length) {
    out.problem =
        "the app answered with both Transfer-Encoding and "
        "Content-Length";
    return out;
  }
  for (size_t i = 0; i < codings.size(); ++i) {
    if (absl::EqualsIgnoreCase(codings[i], "chunked") &&
        i + 1 != codings.size()) {
      out.problem = "the app's Transfer-Encoding has chunked before its end";
      return out;
    }
  }
  if (absl::EqualsIgnoreCase(codings.back(), "chunked")) codings.pop_back();
  out.codings = absl::StrJoin(codings, ", ");
  return out;
}

std::string_view UpgradeWanted(const http::Request& request) {
  const std::string_view upgrade = request.Header("upgrade");
  if (upgrade.empty()) return {};
  for (absl::string_view token :
       absl::StrSplit(A(request.Header("connection")), ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(token), "upgrade")) {
      return upgrade;
    }
  }
  return {};
}

std::string UpstreamRequestHead(const http::Request& request) {
  const std::string_view connection = ConnectionValue(request.headers);
  std::string head =
      absl::StrCat(request.method, " ", request.target, " HTTP/1.1\r\n");
  std::string forwarded_for;
  std::string forwarded;
  bool has_host = false;
  bool has_proto = false;
  for (const auto& [name, value] : request.headers) {
    if (IsHopByHop(name, connection) ||
        absl::EqualsIgnoreCase(name, "expect") ||
        absl::EqualsIgnoreCase(name, "content-length")) {
      continue;
    }
    if (absl::EqualsIgnoreCase(name, "x-forwarded-for")) {
      absl::StrAppend(&forwarded_for, forwarded_for.empty() ? "" : ", ", value);
      continue;
    }
    if (absl::EqualsIgnoreCase(name, "forwarded")) {
      absl::StrAppend(&forwarded, forwarded.empty() ? "" : ", ", value);
      continue;
    }
    has_host = has_host || absl::EqualsIgnoreCase(name, "host");
    has_proto = has_proto || absl::EqualsIgnoreCase(name, "x-forwarded-proto");
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  if (!has_host) head += "Host: localhost\r\n";
  const std::string& client = request.remote_address;
  if (!client.empty()) {
    absl::StrAppend(&forwarded_for, forwarded_for.empty() ? "" : ", ", client);
    absl::StrAppend(&forwarded, forwarded.empty() ? "" : ", ",
                    ForwardedFor(client), ";proto=http");
  }
  if (!forwarded_for.empty()) {
    absl::StrAppend(&head, "X-Forwarded-For: ", forwarded_for, "\r\n");
  }
  if (!forwarded.empty()) {
    absl::StrAppend(&head, "Forwarded: ", forwarded, "\r\n");
  }
  if (!has_proto) head += "X-Forwarded-Proto: http\r\n";
  // An upgrade (a WebSocket) asks the app itself, so its hop-by-hop fields
  // go on to the app.
  if (const std::string_view upgrade = UpgradeWanted(request);
      !upgrade.empty()) {
    absl::StrAppend(&head, "Connection: Upgrade\r\nUpgrade: ", A(upgrade),
                    "\r\n");
  }
  const bool bodiless_method =
      request.method == "GET" || request.method == "HEAD" ||
      request.method == "DELETE" || request.method == "OPTIONS";
  if (!request.body.empty() || !bodiless_method) {
    absl::StrAppend(&head, "Content-Length: ", request.body.size(), "\r\n");
  }
  head += "\r\n";
  return head;
}

http::Headers ClientResponseHeaders(const http::Headers& fields) {
  const std::string_view connection = ConnectionValue(fields);
  http::Headers out;
  out.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    if (IsHopByHop(name, connection) ||
        absl::EqualsIgnoreCase(name, "content-length")) {
      continue;
    }
    out.emplace_back(name, value);
  }
  return out;
}

}  // namespace corral::proxy
