#include "http/router.h"

#include <algorithm>
#include <map>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "http/percent.h"

namespace corral::http {
namespace {

std::vector<std::string> Segments(absl::string_view path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Most paths have a few segments: these are split without allocating.
using Segmented = absl::InlinedVector<std::string_view, 8>;

Segmented PathSegments(std::string_view path) {
  Segmented out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (end > i) out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

// Fills `params` only when the whole path matches.
bool MatchSegments(const std::vector<std::string>& pattern,
                   const Segmented& path,
                   std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (!IsParam(pattern[i]) && pattern[i] != path[i]) return false;
  }
  if (params != nullptr) {
    // Values are assigned in place and only other names are erased: a
    // session's Request is reused, so its map keeps its nodes between
    // requests to the same route.
    size_t found = 0;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (!IsParam(pattern[i])) continue;
      std::string_view name(pattern[i].data() + 1, pattern[i].size() - 2);
      auto it = params->find(std::string(name));  // short: no allocation
      if (it == params->end()) {
        it = params->emplace(std::string(name), std::string()).first;
      }
      it->second.assign(path[i]);
      ++found;
    }
    if (params->size() != found) {
      for (auto it = params->begin(); it != params->end();) {
        std::string wanted = "{" + it->first + "}";
        bool in_pattern =
            std::find(pattern.begin(), pattern.end(), wanted) != pattern.end();
        it = in_pattern ? std::next(it) : params->erase(it);
      }
    }
  }
  return true;
}

}  // namespace

absl::Status Router::Add(std::string_view method,
                         std::string_view path_template, Handler handler) {
  if (path_template.empty() || path_template.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "route \"", std::string(path_template), "\" must start with /"));
  }
  for (const Route& r : routes_) {
    if (r.method == method && r.path_template == path_template) {
      return absl::AlreadyExistsError(
          absl::StrCat("route ", std::string(method), " ",
                       std::string(path_template), " added twice"));
    }
  }
  routes_.push_back(Route{
      std::string(method), std::string(path_template),
      Segments(absl::string_view(path_template.data(), path_template.size())),
      std::move(handler)});
  if (std::find(templates_.begin(), templates_.end(), path_template) ==
      templates_.end()) {
    templates_.emplace_back(path_template);
  }
  return absl::OkStatus();
}

Router& Router::Collect(std::string_view method, std::string_view path_template,
                        Handler handler) {
  absl::Status s = Add(method, path_template, std::move(handler));
  if (!s.ok()) errors_.emplace_back(s.message());
  return *this;
}

Router& Router::Get(std::string_view path_template, Handler handler) {
  return Collect("GET", path_template, std::move(handler));
}
Router& Router::Post(std::string_view path_template, Handler handler) {
  return Collect("POST", path_template, std::move(handler));
}
Router& Router::Put(std::string_view path_template, Handler handler) {
  return Collect("PUT", path_template, std::move(handler));
}
Router& Router::Delete(std::string_view path_template, Handler handler) {
  return Collect("DELETE", path_template, std::move(handler));
}

Router& Router::Label(std::string_view path_template) {
  return Collect("*", path_template, nullptr);
}

absl::Status Router::status() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors_, "; "));
}

RouteMatch Router::Match(Request& request) const {
  RouteMatch match;
  match.route = std::string(unmatched_label());
  // Split first, then decode each segment: /files/a%2Fb is one segment.
  std::string_view raw_path = request.RawPath();
  Segmented path = PathSegments(raw_path);
  std::vector<std::string> decoded;  // reserved: the views into it stay valid
  if (raw_path.find('%') != std::string_view::npos) {
    decoded.reserve(path.size());
    for (std::string_view& segment : path) {
      if (segment.find('%') == std::string_view::npos) continue;
      std::optional<std::string> d = PercentDecode(segment, false);
      if (!d.has_value()) {  // the session refuses these first
        request.params.clear();
        return match;
      }
      decoded.push_back(std::move(*d));
      segment = decoded.back();
    }
  }
  if (forward_) {
    match.kind = RouteMatch::Kind::kForward;
    for (const Route& r : routes_) {
      if (MatchSegments(r.segments, path, &request.params)) {
        match.route = r.path_template;
        return match;
      }
    }
    request.params.clear();
    return match;
  }
  std::vector<std::string> allowed;
  const Route* get_fallback = nullptr;
  for (const Route& r : routes_) {
    if (!MatchSegments(r.segments, path, nullptr)) continue;
    if (r.method == request.method) {
      MatchSegments(r.segments, path, &request.params);
      match.kind = RouteMatch::Kind::kFound;
      match.handler = &r.handler;
      match.route = r.path_template;
      return match;
    }
    if (request.method == "HEAD" && r.method == "GET" && !get_fallback) {
      get_fallback = &r;
      MatchSegments(r.segments, path, &request.params);
    }
    allowed.push_back(r.method);
    if (r.method == "GET") allowed.push_back("HEAD");
  }
  if (get_fallback != nullptr) {
    match.kind = RouteMatch::Kind::kFound;
    match.handler = &get_fallback->handler;
    match.route = get_fallback->path_template;
    return match;
  }
  if (!allowed.empty()) {
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    match.kind = RouteMatch::Kind::kMethodNotAllowed;
    match.allow = absl::StrJoin(allowed, ", ");
    // The path is known: label it with its template so a 405 is attributed.
    for (const Route& r : routes_) {
      if (MatchSegments(r.segments, path, nullptr)) {
        match.route = r.path_template;
        break;
      }
    }
  }
  request.params.clear();
  return match;
}

}  // namespace corral::http
