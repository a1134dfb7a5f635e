// Strict request-target parsing and prefix routing: every path trick is refused or routed to
// the prefix that authorises it, never to another.
#include "proxy/request_path.h"

#include <gtest/gtest.h>

#include "config/gateway_config.h"

namespace jotgate::proxy {
namespace {

void expect_refused(std::string_view target) {
  auto parsed = parse_request_target(target);
  EXPECT_FALSE(parsed.ok()) << "accepted: " << target;
  if (!parsed) {
    EXPECT_EQ(parsed.error().reason, Reason::kBadRequest);
  }
}

TEST(RequestTarget, SplitsPathAndQuery) {
  auto parsed = parse_request_target("/jwt/app/x?a=1&b=%2F");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->path, "/jwt/app/x");
  EXPECT_EQ(parsed->query, "a=1&b=%2F");
  EXPECT_TRUE(parsed->has_query);
  auto plain = parse_request_target("/");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->path, "/");
  EXPECT_FALSE(plain->has_query);
}

TEST(RequestTarget, RefusesNonOriginForms) {
  expect_refused("");
  expect_refused("*");
  expect_refused("http://example.com/jwt/");
  expect_refused("example.com:443");
  expect_refused("jwt/x");
}

TEST(RequestTarget, RefusesDotSegments) {
  expect_refused("/jwt/../x");
  expect_refused("/jwt/..");
  expect_refused("/jwt/./x");
  expect_refused("/..");
  expect_refused("/jwt/..;/admin");
  expect_refused("/jwt/.;x/admin");
}

TEST(RequestTarget, RefusesEncodedSeparatorsAndDots) {
  expect_refused("/x/..%2f");
  expect_refused("/x/..%2F");
  expect_refused("/jwt/%2e%2e/x");
  expect_refused("/jwt/%2E%2E/x");
  expect_refused("/jwt/.%2e/x");
  expect_refused("/jwt%2Fx");
  expect_refused("/jwt/a%2fb");
  expect_refused("/jwt/a%5cb");
  expect_refused("/jwt/a%00b");
  expect_refused("/jwt/a%0ab");
  expect_refused("/jwt/a%7Fb");
}

TEST(RequestTarget, RefusesEncodedCharactersInThePrefixSegment) {
  expect_refused("/%6Awt/x");  // %6A = 'j'
  expect_refused("/j%77t/");
  expect_refused("/jw%74");
  // Non-unreserved encodings elsewhere are ordinary path content.
  EXPECT_TRUE(parse_request_target("/jwt/caf%C3%A9").ok());
  EXPECT_TRUE(parse_request_target("/jwt/a%20b").ok());
}

TEST(RequestTarget, RefusesMalformedPercentEncoding) {
  expect_refused("/jwt/a%");
  expect_refused("/jwt/a%2");
  expect_refused("/jwt/a%zz");
  expect_refused("/jwt/%g0");
}

TEST(RequestTarget, RefusesBackslashControlAndNul) {
  expect_refused("/jwt\\..\\x");
  expect_refused("/jwt/a\\b");
  expect_refused(std::string_view("/jwt/a\0b", 8));
  expect_refused("/jwt/a\tb");
  expect_refused("/jwt/a\x7f");
  expect_refused("/jwt/a?q=\x01");
  expect_refused("/jwt/a#frag");
}

TEST(RequestTarget, AcceptsOrdinaryPaths) {
  for (std::string_view target : {"/jwt", "/jwt/", "/jwt/a/b.c/d..e/...", "/jwt//x", "/jwt/a;b=c",
                                  "/jwt/~user", "/jwt/?q=../..%2f"}) {
    EXPECT_TRUE(parse_request_target(target).ok()) << target;
  }
}

RouteTable table() {
  RouteTable routes;
  routes.add("jwt", 0);
  routes.add("jwt.v2", 1);
  routes.add("api", 2);
  return routes;
}

TEST(RouteTable, MatchesWholeSegmentsOnly) {
  auto routes = table();
  auto exact = routes.match("/jwt");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->virtual_proxy_index, 0u);
  EXPECT_EQ(exact->rest, "");
  auto below = routes.match("/jwt/app/x");
  ASSERT_TRUE(below);
  EXPECT_EQ(below->virtual_proxy_index, 0u);
  EXPECT_EQ(below->prefix, "jwt");
  EXPECT_EQ(below->rest, "/app/x");
  EXPECT_FALSE(routes.match("/jwtx"));
  EXPECT_FALSE(routes.match("/jwtx/app"));
  EXPECT_FALSE(routes.match("/jw"));
  EXPECT_FALSE(routes.match("/"));
  auto v2 = routes.match("/jwt.v2/x");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->virtual_proxy_index, 1u);
}

TEST(RouteTable, RootCatchesWhatNoLongerPrefixMatches) {
  auto routes = table();
  routes.add("", 9);
  auto root = routes.match("/jwtx/a");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->virtual_proxy_index, 9u);
  EXPECT_EQ(root->rest, "/jwtx/a");
  EXPECT_EQ(routes.match("/")->virtual_proxy_index, 9u);
  // The longer prefix still wins over the root.
  EXPECT_EQ(routes.match("/api/x")->virtual_proxy_index, 2u);
  EXPECT_EQ(routes.match("/api")->virtual_proxy_index, 2u);
}

TEST(UpstreamTarget, StripsPrefixKeepsQueryAndBasePath) {
  config::Upstream upstream;
  auto routes = table();
  auto target = parse_request_target("/jwt/app/x?a=1");
  ASSERT_TRUE(target.ok());
  auto match = routes.match(target->path);
  ASSERT_TRUE(match);
  EXPECT_EQ(build_upstream_target(upstream, true, *match, *target), "/app/x?a=1");
  EXPECT_EQ(build_upstream_target(upstream, false, *match, *target), "/jwt/app/x?a=1");
  upstream.base_path = "/engine";
  EXPECT_EQ(build_upstream_target(upstream, true, *match, *target), "/engine/app/x?a=1");
  upstream.base_path = "/engine/";
  EXPECT_EQ(build_upstream_target(upstream, true, *match, *target), "/engine/app/x?a=1");

  auto bare = parse_request_target("/jwt");
  auto bare_match = routes.match(bare->path);
  upstream.base_path = "";
  EXPECT_EQ(build_upstream_target(upstream, true, *bare_match, *bare), "/");
  auto empty_query = parse_request_target("/jwt?");
  EXPECT_EQ(build_upstream_target(upstream, true, *routes.match(empty_query->path), *empty_query),
            "/?");
}

}  // namespace
}  // namespace jotgate::proxy
