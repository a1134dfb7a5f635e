// Cookie codec: Set-Cookie attributes, reading a cookie among many and quoted, forwarding the
// Cookie header without the session cookie.
#include <gtest/gtest.h>

#include "session/cookie.h"

namespace jotgate::session {
namespace {

TEST(Cookie, SetCookieAttributes) {
  CookieSpec spec;
  spec.name = "X-Jotgate-Session-jwt";
  spec.path = "/jwt";
  EXPECT_EQ(build_set_cookie(spec, "v"),
            "X-Jotgate-Session-jwt=v; Path=/jwt; HttpOnly; SameSite=Lax");
  spec.secure = true;
  spec.same_site = CookieSameSite::kNone;
  spec.domain = "example.test";
  spec.max_age_seconds = 3600;
  EXPECT_EQ(build_set_cookie(spec, "v"),
            "X-Jotgate-Session-jwt=v; Path=/jwt; HttpOnly; Secure; SameSite=None; "
            "Domain=example.test; Max-Age=3600");
  spec.same_site = CookieSameSite::kStrict;
  EXPECT_NE(build_set_cookie(spec, "v").find("SameSite=Strict"), std::string::npos);
  CookieSpec plain;
  plain.name = "s";
  EXPECT_EQ(build_expired_cookie(plain), "s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
}

TEST(Cookie, PartitionedGoesOnlyWithSecure) {
  CookieSpec spec;
  spec.name = "sid";
  spec.same_site = CookieSameSite::kNone;
  spec.partitioned = true;
  spec.secure = true;
  EXPECT_EQ(build_set_cookie(spec, "v"),
            "sid=v; Path=/; HttpOnly; Secure; SameSite=None; Partitioned");
  EXPECT_EQ(build_expired_cookie(spec),
            "sid=; Path=/; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=0");
  spec.secure = false;  // plain HTTP with secure: auto: a browser would drop it with the attribute
  EXPECT_EQ(build_set_cookie(spec, "v"), "sid=v; Path=/; HttpOnly; SameSite=None");
}

TEST(Cookie, FindsValuesAcrossHeadersAndQuotes) {
  std::vector<std::string_view> headers = {"a=1; sid=\"abc\"", " b=2;sid=def ;c"};
  EXPECT_EQ(find_cookie_values(headers, "sid"), (std::vector<std::string_view>{"abc", "def"}));
  EXPECT_EQ(find_cookie_values(headers, "a"), std::vector<std::string_view>{"1"});
  EXPECT_TRUE(find_cookie_values(headers, "si").empty());
  EXPECT_TRUE(find_cookie_values({}, "sid").empty());
}

TEST(Cookie, StripRemovesOnlyTheSessionCookie) {
  EXPECT_EQ(strip_cookie({"a=1; sid=x; b=2", "sid=y; c=3"}, "sid"),
            std::optional<std::string>("a=1; b=2; c=3"));
  EXPECT_EQ(strip_cookie({"sid=x", " sid=y "}, "sid"), std::nullopt);
  EXPECT_EQ(strip_cookie({"sidx=1"}, "sid"), std::optional<std::string>("sidx=1"));
  EXPECT_EQ(strip_cookie({}, "sid"), std::nullopt);
}

}  // namespace
}  // namespace jotgate::session
