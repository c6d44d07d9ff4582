#include "http/response_head.h"

#include <boost/beast/http/status.hpp>
#include <charconv>

#include "absl/strings/match.h"

namespace corral::http {
namespace {

namespace bhttp = boost::beast::http;

void AppendNumber(uint64_t n, std::string* out) {
  char digits[20];
  auto end = std::to_chars(digits, digits + sizeof(digits), n).ptr;
  out->append(digits, end);
}

bool Has(const Headers* headers, std::string_view name) {
  if (headers == nullptr) return false;
  for (const auto& [field, value] : *headers) {
    if (absl::EqualsIgnoreCase(field,
                               absl::string_view(name.data(), name.size()))) {
      return true;
    }
  }
  return false;
}

void AppendField(std::string_view name, std::string_view value,
                 std::string* out) {
  out->append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  if (status == 103) return "Early Hints";
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (reason == "<unknown-status>") return "";
  return std::string_view(reason.data(), reason.size());
}

void AppendResponseHead(const ResponseHead& head, std::string* out) {
  out->append(head.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  AppendNumber(static_cast<uint64_t>(head.status), out);
  out->append(" ").append(ReasonPhrase(head.status)).append("\r\n");
  if (!head.server.empty() && !Has(head.headers, "server")) {
    AppendField("Server", head.server, out);
  }
  if (!head.date.empty() && !Has(head.headers, "date")) {
    AppendField("Date", head.date, out);
  }
  if (!head.content_type.empty()) {
    AppendField("Content-Type", head.content_type, out);
  }
  if (head.headers != nullptr) {
    for (const auto& [name, value] : *head.headers) {
      if (absl::EqualsIgnoreCase(name, "content-length") ||
          absl::EqualsIgnoreCase(name, "transfer-encoding")) {
        continue;
      }
      AppendField(name, value, out);
    }
  }
  if (head.content_length) {
    out->append("Content-Length: ");
    AppendNumber(*head.content_length, out);
    out->append("\r\n");
  }
  if (!head.transfer_encoding.empty()) {
    AppendField("Transfer-Encoding", head.transfer_encoding, out);
  }
  if (head.connection == ResponseHead::Connection::kKeepAlive) {
    out->append("Connection: keep-alive\r\n");
  } else if (head.connection == ResponseHead::Connection::kClose) {
    out->append("Connection: close\r\n");
  }
  out->append("\r\n");
}

}  // namespace corral::http
