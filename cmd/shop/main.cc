// corral-shop: the demo store. A catalogue, paged listings and a checkout
// that does real pricing work and then waits on a (simulated) payment
// provider without blocking its worker's event loop.
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "corral/app.h"
#include "shop/catalog.h"
#include "shop/checkout.h"
#include "shop/faults.h"
#include "shop/products_view.h"
#include "shop/sale_settings.h"
#include "shop/shop_config.h"

namespace {

using corral::http::Request;
using corral::http::Respond;
using corral::http::Response;

int StatusFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    default:
      return 500;
  }
}

Response Error(const absl::Status& s) {
  return Response::Error(StatusFor(s), std::string(s.message()));
}

absl::Status Setup(corral::WorkerContext& ctx) {
  const shop::Catalog& catalog = shop::Catalog::Default();
  if (catalog.size() == 0) {
    return absl::FailedPreconditionError("the catalogue is empty");
  }
  // The master validated this config already; a failure here means the
  // worker cannot serve it, which keeps it from ever taking traffic.
  auto shop_config = shop::ShopConfigFrom(ctx.config());
  if (!shop_config.ok()) return shop_config.status();
  auto settings = std::make_shared<shop::SaleSettings>(shop_config->sale);
  std::string worker_pid = std::to_string(getpid());
  std::string generation = std::to_string(ctx.generation());
  std::string hash = ctx.config().hash;
  // Which worker and which config generation answered: a client (or a test)
  // can see a new config go live.
  auto stamp = [worker_pid, generation, hash](Response r) {
    r.headers.emplace_back("X-Worker-Pid", worker_pid);
    r.headers.emplace_back("X-Config-Generation", generation);
    r.headers.emplace_back("X-Config-Hash", hash);
    return r;
  };
  // The catalogue does not change within a worker: render each product once.
  auto product_json = std::make_shared<std::unordered_map<int, std::string>>();
  for (const shop::Product& p : catalog.All()) {
    (*product_json)[p.id] = shop::ProductToJson(p);
  }
  corral::http::Router& router = ctx.router();

  nlohmann::json index = {{"store", "corral-shop"},
                          {"banner", shop_config->banner},
                          {"features", shop_config->features},
                          {"sale",
                           {{"discount_percent", settings->discount_percent},
                            {"tax_rate_percent", settings->tax_rate_percent}}},
                          {"endpoints",
                           {"GET /products?page=1&per_page=20",
                            "GET /products/{id}", "POST /checkout"}}};
  router.Get("/", [stamp, index](const Request&, Respond respond) {
    respond(stamp(Response::Json(200, index.dump())));
  });

  router.Get("/products",
             [&catalog, stamp](const Request& req, Respond respond) {
               auto page = shop::ProductsPageJson(catalog, req.query);
               respond(stamp(page.ok() ? Response::Json(200, *page)
                                       : Error(page.status())));
             });

  router.Get("/products/{id}", [product_json, stamp](const Request& req,
                                                     Respond respond) {
    int id = 0;
    std::string_view raw = req.Param("id").value_or("");
    if (!absl::SimpleAtoi(absl::string_view(raw.data(), raw.size()), &id) ||
        id <= 0) {
      respond(
          stamp(Response::Error(400, "product id must be a positive integer")));
      return;
    }
    auto it = product_json->find(id);
    if (it == product_json->end()) {
      respond(
          stamp(Response::Error(404, absl::StrCat("unknown product ", id))));
      return;
    }
    respond(stamp(Response::Json(200, it->second)));
  });

  boost::asio::io_context& io = ctx.io();
  router.Post("/checkout", [&catalog, &io, settings, stamp](const Request& req,
                                                            Respond respond) {
    std::string_view type = req.Header("Content-Type");
    if (!type.empty() &&
        !absl::StartsWithIgnoreCase(absl::string_view(type.data(), type.size()),
                                    "application/json")) {
      respond(stamp(Response::Error(415, "checkout takes application/json")));
      return;
    }
    auto quote = shop::PriceCart(catalog, req.body, *settings);
    if (!quote.ok()) {
      respond(stamp(Error(quote.status())));
      return;
    }
    // The payment provider answers after a while; the loop serves other
    // requests meanwhile.
    auto timer = std::make_shared<boost::asio::steady_timer>(
        io, std::chrono::milliseconds(settings->payment_latency_ms));
    std::string body = shop::QuoteToJson(*quote);
    timer->async_wait([timer, body = std::move(body), respond,
                       stamp](boost::system::error_code) {
      auto j = nlohmann::json::parse(body, nullptr, false);
      j["payment"] = "approved";
      respond(stamp(Response::Json(200, j.dump())));
    });
  });

  if (shop::FaultsEnabled()) return shop::AddFaultRoutes(ctx);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  corral::App app;
  app.name = "corral-shop";
  app.version = CORRAL_VERSION;
  app.setup = Setup;
  app.config = shop::ShopConfigSpec();
  app.defaults.max_body_bytes = 64 * 1024;
  return corral::Main(argc, argv, app);
}
