#include "http/http_date.h"

#include <cstdio>

namespace corral::http {

std::string FormatHttpDate(std::time_t t) {
  // Fixed English names: strftime's %a and %b follow the locale.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed",
                                          "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr",
                                            "May", "Jun", "Jul", "Aug",
                                            "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                        kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
                        tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

DateCache& ThreadDateCache() {
  thread_local DateCache cache;
  return cache;
}

}  // namespace corral::http
