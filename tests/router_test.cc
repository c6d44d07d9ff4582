#include "http/router.h"

#include <gtest/gtest.h>

namespace corral::http {
namespace {

Handler Named(std::string name, std::string* called) {
  return [name, called](const Request&, Respond) { *called = name; };
}

Request Req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(RouterTest, MatchesTemplatesAndParams) {
  Router router;
  std::string called;
  ASSERT_TRUE(router.Add("GET", "/products", Named("list", &called)).ok());
  ASSERT_TRUE(router.Add("GET", "/products/{id}", Named("one", &called)).ok());
  Request r = Req("GET", "/products/42");
  RouteMatch m = router.Match(r);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route, "/products/{id}");
  EXPECT_EQ(r.Param("id"), "42");
  (*m.handler)(r, [](Response) {});
  EXPECT_EQ(called, "one");
}

// A session reuses one Request: each match leaves exactly its own params.
TEST(RouterTest, ReusedRequestKeepsOnlyTheLatestMatchsParams) {
  Router router;
  std::string called;
  ASSERT_TRUE(router.Add("GET", "/products/{id}", Named("one", &called)).ok());
  ASSERT_TRUE(
      router.Add("GET", "/users/{user}/carts/{cart}", Named("cart", &called))
          .ok());
  Request r = Req("GET", "/users/ann/carts/7");
  ASSERT_EQ(router.Match(r).kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.params.size(), 2u);
  r.path = "/products/42";
  ASSERT_EQ(router.Match(r).kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.params.size(), 1u);
  EXPECT_EQ(r.Param("id"), "42");
  r.path = "/products/43";
  ASSERT_EQ(router.Match(r).kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.Param("id"), "43");
  r.path = "/nope";
  EXPECT_EQ(router.Match(r).kind, RouteMatch::Kind::kNotFound);
  EXPECT_TRUE(r.params.empty());
}

TEST(RouterTest, NotFoundIsOneLabel) {
  Router router;
  std::string called;
  ASSERT_TRUE(router.Add("GET", "/products/{id}", Named("one", &called)).ok());
  for (const char* path : {"/nope", "/products/1/extra", "/", "/products"}) {
    Request r = Req("GET", path);
    RouteMatch m = router.Match(r);
    EXPECT_EQ(m.kind, RouteMatch::Kind::kNotFound) << path;
    EXPECT_EQ(m.route, kUnmatchedRoute) << path;
  }
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router;
  std::string called;
  ASSERT_TRUE(router.Add("POST", "/checkout", Named("co", &called)).ok());
  ASSERT_TRUE(router.Add("GET", "/checkout", Named("get", &called)).ok());
  Request r = Req("DELETE", "/checkout");
  RouteMatch m = router.Match(r);
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");
  EXPECT_EQ(m.route, "/checkout");
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  std::string called;
  ASSERT_TRUE(router.Add("GET", "/products/{id}", Named("one", &called)).ok());
  Request r = Req("HEAD", "/products/7");
  RouteMatch m = router.Match(r);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.Param("id"), "7");
}

TEST(RouterTest, RejectsBadAndDuplicateRoutes) {
  Router router;
  std::string called;
  EXPECT_FALSE(router.Add("GET", "products", Named("x", &called)).ok());
  EXPECT_TRUE(router.Add("GET", "/a", Named("x", &called)).ok());
  EXPECT_FALSE(router.Add("GET", "/a", Named("x", &called)).ok());
  EXPECT_EQ(router.Templates().size(), 1u);
}

TEST(RequestTest, HeaderLookupIgnoresCase) {
  Request r;
  r.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("x-missing"), "");
}

TEST(RouterTest, MatchesTheDecodedPathSegmentBySegment) {
  Router router;
  std::string called;
  ASSERT_TRUE(router.Add("GET", "/products/{id}", Named("one", &called)).ok());
  ASSERT_TRUE(router.Add("GET", "/a b", Named("space", &called)).ok());
  Request r = Req("GET", "");
  r.target = "/products/%31?x=%32";
  RouteMatch m = router.Match(r);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route, "/products/{id}");
  EXPECT_EQ(r.Param("id"), "1");
  // An escaped slash stays inside its segment.
  r.target = "/products/a%2Fb";
  m = router.Match(r);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.Param("id"), "a/b");
  r.target = "/%70roducts/%61%2F%62/extra";
  EXPECT_EQ(router.Match(r).kind, RouteMatch::Kind::kNotFound);
  r.target = "/a%20b";
  m = router.Match(r);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route, "/a b");
}

TEST(RouterTest, QueryParamsAreDecoded) {
  Request r;
  r.query = "page=%32&q=a+b%2Bc&empty&x%3Dy=1&page=9";
  EXPECT_EQ(r.QueryParam("page"), "2");  // the first one
  EXPECT_EQ(r.QueryParam("q"), "a b+c");
  EXPECT_EQ(r.QueryParam("empty"), "");
  EXPECT_EQ(r.QueryParam("x=y"), "1");
  EXPECT_EQ(r.QueryParam("missing"), std::nullopt);
  r.query = "page=%3";
  EXPECT_EQ(r.QueryParam("page"), std::nullopt);
}

}  // namespace
}  // namespace corral::http

namespace corral::http {
namespace {

TEST(RouterTest, HelpersCollectEveryMistakeForOneReport) {
  Router router;
  std::string called;
  router.Get("/a", Named("a", &called))
      .Post("no-slash", Named("b", &called))
      .Get("/a", Named("again", &called))
      .Put("/c", Named("c", &called))
      .Delete("/c", Named("d", &called));
  absl::Status s = router.status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"no-slash\" must start with /"),
            std::string_view::npos);
  EXPECT_NE(s.message().find("GET /a added twice"), std::string_view::npos);
  Request r = Req("DELETE", "/c");
  RouteMatch m = router.Match(r);
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  (*m.handler)(r, [](Response) {});
  EXPECT_EQ(called, "d");
}

TEST(RouterTest, HelpersWithoutMistakesAreOk) {
  Router router;
  router.Get("/x", [](const Request&, Respond) {});
  EXPECT_TRUE(router.status().ok());
}

}  // namespace
}  // namespace corral::http
