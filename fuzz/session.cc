// The request path of the C++ server: bytes from a client in, a real
// Session's answers out (see session_driver.h), with a small app like the
// shop's: routes with params, a body echoed back, an answer given later
// from the loop, a handler that throws, a 204 without a body.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "session_driver.h"

namespace {

using corral::http::Request;
using corral::http::Respond;
using corral::http::Response;

// The loop of the input in hand, for the handler that answers later.
boost::asio::io_context* current_io = nullptr;

corral::http::Router MakeRouter() {
  corral::http::Router router;
  router.Get("/", [](const Request&, Respond respond) {
    respond(Response::Text(200, "hello\n"));
  });
  router.Get("/products/{id}", [](const Request& request, Respond respond) {
    respond(Response::Json(
        200, "{\"id\":\"" + std::string(*request.Param("id")) + "\"}"));
  });
  router.Get("/search", [](const Request& request, Respond respond) {
    respond(Response::Text(200, request.QueryParam("q").value_or("-")));
  });
  router.Post("/echo", [](const Request& request, Respond respond) {
    Response r = Response::Text(201, request.body);
    r.headers.emplace_back("X-Header-Count",
                           std::to_string(request.headers.size()));
    respond(std::move(r));
  });
  router.Put("/echo", [](const Request& request, Respond respond) {
    respond(Response::Text(200, request.body));
  });
  router.Get("/later", [](const Request&, Respond respond) {
    boost::asio::post(*current_io, [respond = std::move(respond)] {
      respond(Response::Text(200, "later\n"));
    });
  });
  router.Delete("/items/{id}", [](const Request&, Respond respond) {
    respond(Response::Text(204, ""));
  });
  router.Get("/throw", [](const Request&, Respond) {
    throw std::runtime_error("the app's bug");
  });
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const corral::http::Router router = MakeRouter();
  return corral::fuzz::FuzzOneInput(data, size, router, &current_io);
}
