// A whole corral app: one worker per CPU on one listening socket, probes,
// metrics, drains and rolls. Run it: build/bin/hello --listen=0.0.0.0:8080
#include <nlohmann/json.hpp>

#include "corral/app.h"

using corral::http::Request;
using corral::http::Respond;
using corral::http::Response;

int main(int argc, char** argv) {
  corral::App app;
  app.name = "hello";
  app.setup = [](corral::WorkerContext& ctx) {
    ctx.router()
        .Get("/",
             [](const Request&, Respond respond) {
               respond(Response::Text(200, "hello\n"));
             })
        .Get("/hello/{name}", [](const Request& req, Respond respond) {
          nlohmann::json j = {{"hello", req.Param("name").value_or("")}};
          respond(Response::Json(200, j.dump()));
        });
    return absl::OkStatus();
  };
  return corral::Main(argc, argv, app);
}
