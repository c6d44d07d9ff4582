#include "http/response.h"

#include <nlohmann/json.hpp>

namespace corral::http {

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::Error(int status, std::string_view message) {
  nlohmann::json j = {{"error", std::string(message)}, {"status", status}};
  return Json(status,
              j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace corral::http
