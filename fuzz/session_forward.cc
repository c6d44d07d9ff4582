// The request path as the proxy uses it: every request goes to one
// forwarding handler that answers in parts through a ResponseWriter (see
// session_driver.h for what is checked). The handler stands in for an
// upstream: chunked or sized bodies, pieces sent one after the other, an
// interim 103, answers that come from a later turn of the loop, and one
// large enough to fill the socket.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "session_driver.h"

namespace {

using corral::http::Headers;
using corral::http::Request;
using corral::http::ResponseWriter;

boost::asio::io_context* current_io = nullptr;

// Sends `pieces` one at a time, each once the previous is in the socket.
void SendPieces(std::shared_ptr<ResponseWriter> writer,
                std::shared_ptr<std::vector<std::string>> pieces, size_t next) {
  if (next == pieces->size()) {
    writer->Finish();
    return;
  }
  writer->WriteBody((*pieces)[next], [writer, pieces, next] {
    SendPieces(writer, pieces, next + 1);
  });
}

void Answer(const Request& request, std::shared_ptr<ResponseWriter> writer) {
  const std::string_view path = request.path;
  auto pieces = std::make_shared<std::vector<std::string>>();
  std::optional<uint64_t> length;
  int status = 200;
  Headers headers = {{"Content-Type", "text/plain"}};
  if (path == "/stream") {  // no length: chunked to HTTP/1.1 clients
    *pieces = {"one ", "two ", "", "three\n"};
  } else if (path == "/big") {  // more than the socket holds
    pieces->assign(64, std::string(4096, 'x'));
    length = 64 * 4096;
  } else if (path == "/empty") {
    status = 204;
  } else if (path == "/hints") {
    writer->WriteInterim(103, {{"Link", "</a.css>; rel=preload"}});
    *pieces = {"hinted\n"};
  } else {  // the body back, its length known, as most upstreams answer
    *pieces = {request.body};
    length = request.body.size();
  }
  writer->WriteHead(status, headers, length);
  SendPieces(std::move(writer), std::move(pieces), 0);
}

corral::http::Router MakeRouter() {
  corral::http::Router router;
  router.Forward(
      [](const Request& request, std::shared_ptr<ResponseWriter> writer) {
        if (request.path.starts_with("/later")) {
          // The request is reused once answered: take what the answer needs.
          boost::asio::post(*current_io, [request, writer = std::move(writer)] {
            Answer(request, writer);
          });
          return;
        }
        Answer(request, std::move(writer));
      });
  router.Label("/products/{id}");
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const corral::http::Router router = MakeRouter();
  return corral::fuzz::FuzzOneInput(data, size, router, &current_io);
}
