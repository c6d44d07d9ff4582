// Percent-decoding (RFC 3986 2.1) of the path and query an app reads.
#ifndef CORRAL_HTTP_PERCENT_H_
#define CORRAL_HTTP_PERCENT_H_

#include <optional>
#include <string>
#include <string_view>

namespace corral::http {

// Whether every '%' in `s` starts a two-hex-digit escape.
bool IsValidPercentEncoding(std::string_view s);

// Decodes %XX escapes; nullopt for a bad or truncated escape ("%zz", "%3").
// A path is decoded with plus_is_space false: '+' is a literal plus there.
// A query component is decoded with plus_is_space true, as browsers encode
// form values (application/x-www-form-urlencoded); a literal plus arrives as
// %2B. Callers split before decoding ('/' for paths, '&' and '=' for
// queries), so an escaped separator such as %2F or %26 stays inside its part.
std::optional<std::string> PercentDecode(std::string_view s,
                                         bool plus_is_space);

}  // namespace corral::http

#endif  // CORRAL_HTTP_PERCENT_H_
