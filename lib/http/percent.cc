#include "http/percent.h"

namespace corral::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsValidPercentEncoding(std::string_view s) {
  for (size_t i = s.find('%'); i != std::string_view::npos;
       i = s.find('%', i + 3)) {
    if (s.size() - i < 3) return false;
    if (HexValue(s[i + 1]) < 0 || HexValue(s[i + 2]) < 0) return false;
  }
  return true;
}

std::optional<std::string> PercentDecode(std::string_view s,
                                         bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (s.size() - i < 3) return std::nullopt;
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace corral::http
