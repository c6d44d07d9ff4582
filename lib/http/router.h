// Maps method + path to a handler, with templates like /products/{id}. The
// matched template is the route label of the metrics, so labels stay bounded.
#ifndef CORRAL_HTTP_ROUTER_H_
#define CORRAL_HTTP_ROUTER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "http/request.h"
#include "http/response.h"

namespace corral::http {

using Handler = std::function<void(const Request&, Respond)>;
// Answers in parts (see ResponseWriter): a proxy's handler.
using StreamHandler =
    std::function<void(const Request&, std::shared_ptr<ResponseWriter>)>;

// The route label of a request that matched no route.
inline constexpr std::string_view kUnmatchedRoute = "unmatched";
// The route label of a forwarded request that matched no template.
inline constexpr std::string_view kNoRoute = "none";

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed, kForward };
  Kind kind = Kind::kNotFound;
  const Handler* handler = nullptr;
  std::string route;  // the template, or kUnmatchedRoute
  std::string allow;  // for 405: the methods the path accepts, "GET, HEAD"
};

class Router {
 public:
  // Templates are absolute paths; a segment "{name}" matches any one
  // non-empty segment and is passed to the handler as a param.
  absl::Status Add(std::string_view method, std::string_view path_template,
                   Handler handler);

  // The same, for an app's setup: a mistake is kept, not returned, and
  // status() reports every one at once before the worker serves.
  Router& Get(std::string_view path_template, Handler handler);
  Router& Post(std::string_view path_template, Handler handler);
  Router& Put(std::string_view path_template, Handler handler);
  Router& Delete(std::string_view path_template, Handler handler);
  // OK, or every registration mistake of the helpers above.
  absl::Status status() const;

  // Every request goes to `handler`, whatever its method and path; the
  // templates given with Label() only name the route in the metrics.
  void Forward(StreamHandler handler) { forward_ = std::move(handler); }
  Router& Label(std::string_view path_template);
  const StreamHandler* forward() const {
    return forward_ ? &forward_ : nullptr;
  }
  // The route label of a request no template matched.
  std::string_view unmatched_label() const {
    return forward_ ? kNoRoute : kUnmatchedRoute;
  }

  // Sets request.params: the route's on a match, none otherwise. HEAD falls
  // back to GET.
  RouteMatch Match(Request& request) const;

  const std::vector<std::string>& Templates() const { return templates_; }

 private:
  struct Route {
    std::string method;
    std::string path_template;
    std::vector<std::string> segments;
    Handler handler;
  };
  Router& Collect(std::string_view method, std::string_view path_template,
                  Handler handler);

  std::vector<Route> routes_;
  std::vector<std::string> templates_;
  std::vector<std::string> errors_;
  StreamHandler forward_;
};

}  // namespace corral::http

#endif  // CORRAL_HTTP_ROUTER_H_
