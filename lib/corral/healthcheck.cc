#include "corral/healthcheck.h"

#include <httplib.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace corral {

int RunHealthcheck(const std::string& url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://")) {
    std::fprintf(stderr, "healthcheck: only http:// URLs are supported: %s\n",
                 url.c_str());
    return 2;
  }
  size_t slash = rest.find('/');
  std::string host_port(rest.substr(0, slash));
  std::string path =
      slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  size_t colon = host_port.rfind(':');
  int port = 80;
  std::string host = host_port;
  if (colon != std::string::npos) {
    host = host_port.substr(0, colon);
    if (!absl::SimpleAtoi(host_port.substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      std::fprintf(stderr, "healthcheck: bad port in %s\n", url.c_str());
      return 2;
    }
  }
  if (host.size() > 2 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  httplib::Client client(host, port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(3, 0);
  auto res = client.Get(path);
  if (!res) {
    std::fprintf(stderr, "healthcheck: %s: %s\n", url.c_str(),
                 httplib::to_string(res.error()).c_str());
    return 1;
  }
  if (res->status < 200 || res->status > 299) {
    std::fprintf(stderr, "healthcheck: %s answered %d: %s\n", url.c_str(),
                 res->status, res->body.c_str());
    return 1;
  }
  return 0;
}

}  // namespace corral
