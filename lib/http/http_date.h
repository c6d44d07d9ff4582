// The Date header every response carries (RFC 9110 6.6.1).
#ifndef CORRAL_HTTP_HTTP_DATE_H_
#define CORRAL_HTTP_HTTP_DATE_H_

#include <ctime>
#include <string>

namespace corral::http {

// IMF-fixdate (RFC 9110 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string FormatHttpDate(std::time_t t);

// The current Date value, formatted again only when the second changes: a
// busy worker answers thousands of requests within one second.
class DateCache {
 public:
  const std::string& At(std::time_t now) {
    if (now != second_) {
      second_ = now;
      value_ = FormatHttpDate(now);
    }
    return value_;
  }
  const std::string& Now() { return At(std::time(nullptr)); }

 private:
  std::time_t second_ = -1;
  std::string value_;
};

// This thread's DateCache: a worker's sessions all share one.
DateCache& ThreadDateCache();

}  // namespace corral::http

#endif  // CORRAL_HTTP_HTTP_DATE_H_
