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
  // Runs without an escape are copied whole: most paths have none.
  size_t i = 0;
  while (i < s.size()) {
    size_t j = plus_is_space ? s.find_first_of("%+", i) : s.find('%', i);
    if (j == std::string_view::npos) j = s.size();
    out.append(s.data() + i, j - i);
    if (j == s.size()) break;
    if (s[j] == '+') {
      out.push_back(' ');
      i = j + 1;
      continue;
    }
    if (s.size() - j < 3) return std::nullopt;
    int hi = HexValue(s[j + 1]);
    int lo = HexValue(s[j + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i = j + 3;
  }
  return out;
}

}  // namespace corral::http
