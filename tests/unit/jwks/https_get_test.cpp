#include "fetch/https_get.h"

#include <gtest/gtest.h>

namespace jotgate::fetch {
namespace {

using std::chrono::seconds;

TEST(ParseHttpsUrl, TakesHostPortAndTarget) {
  auto url = parse_https_url("https://idp.example:8443/keys?v=1");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->host, "idp.example");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->target, "/keys?v=1");
  auto plain = parse_https_url("https://idp.example");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, "443");
  EXPECT_EQ(plain->target, "/");
  auto v6 = parse_https_url("https://[::1]:9/k");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "9");
}

TEST(ParseHttpsUrl, RefusesAnythingButHttps) {
  auto http = parse_https_url("http://idp.example/keys");
  ASSERT_FALSE(http);
  EXPECT_EQ(http.error().reason, Reason::kFetchFailed);
  EXPECT_EQ(http.error().detail, "http://idp.example/keys: only https:// URLs are fetched");
  EXPECT_FALSE(parse_https_url("file:///etc/passwd"));
  EXPECT_FALSE(parse_https_url("https://user:pw@idp.example/"));
  EXPECT_FALSE(parse_https_url("https:///keys"));
  EXPECT_FALSE(parse_https_url("https://idp.example:0/"));
  EXPECT_FALSE(parse_https_url("https://idp.example:70000/"));
  EXPECT_FALSE(parse_https_url("https://idp.example/a b"));
  EXPECT_FALSE(parse_https_url("https://idp.example/#x"));
}

TEST(MaxAge, ReadFromCacheControl) {
  EXPECT_EQ(max_age_of("public, max-age=300"), seconds(300));
  EXPECT_EQ(max_age_of("Max-Age=\"60\""), seconds(60));
  EXPECT_EQ(max_age_of("no-cache"), std::nullopt);
  EXPECT_EQ(max_age_of("max-age=abc"), std::nullopt);
  EXPECT_EQ(max_age_of(""), std::nullopt);
}

TEST(HttpsGet, RefusesHttpWithoutConnecting) {
  auto got = https_get("http://127.0.0.1:1/keys", {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().detail, "http://127.0.0.1:1/keys: only https:// URLs are fetched");
}

TEST(HttpsGet, NamesAMissingCaFile) {
  FetchOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  auto got = https_get("https://127.0.0.1:1/keys", options);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().detail.rfind("https://127.0.0.1:1/keys: cannot load the trusted "
                                     "certificates /nonexistent/ca.pem: ",
                                     0),
            0u)
      << got.error().detail;
}

TEST(HttpsGet, ConnectionRefusedIsAnError) {
  auto got = https_get("https://127.0.0.1:1/keys", {});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().detail.rfind("https://127.0.0.1:1/keys: cannot connect: ", 0), 0u)
      << got.error().detail;
}

}  // namespace
}  // namespace jotgate::fetch
