// The percent decoder: any bytes, as a request target's path or query.
// Checks that validity and decoding agree, that decoding never grows the
// text, and that what is decoded comes back through an encode.
#include "http/percent.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

std::string Encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool valid = corral::http::IsValidPercentEncoding(in);
  for (bool plus_is_space : {false, true}) {
    auto decoded = corral::http::PercentDecode(in, plus_is_space);
    if (decoded.has_value() != valid) __builtin_trap();
    if (!decoded) continue;
    if (decoded->size() > in.size()) __builtin_trap();
    auto again = corral::http::PercentDecode(Encode(*decoded), plus_is_space);
    if (!again || *again != *decoded) __builtin_trap();
  }
  return 0;
}
