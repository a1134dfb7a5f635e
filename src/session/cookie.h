// The session cookie on the wire: Set-Cookie values to send, and the Cookie request header(s)
// to read the session from and to forward without it.
//   CookieSpec spec{.name = "X-Jotgate-Session-jwt", .path = "/jwt", .secure = true};
//   response.set("Set-Cookie", build_set_cookie(spec, value));
//   auto values = find_cookie_values(request_cookie_headers, spec.name);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jotgate::session {

enum class CookieSameSite { kLax, kStrict, kNone };

struct CookieSpec {
  std::string name;
  std::string path = "/";
  bool secure = false;
  CookieSameSite same_site = CookieSameSite::kLax;
  std::string domain;                // "" = host-only
  bool partitioned = false;          // CHIPS; sent only with Secure (browsers require both)
  std::int64_t max_age_seconds = 0;  // 0 = a browser-session cookie
};

// "name=value; Path=/jwt; HttpOnly; Secure; SameSite=Lax[; Partitioned][; Domain=d]
// [; Max-Age=n]".
std::string build_set_cookie(const CookieSpec& spec, std::string_view value);
// A Set-Cookie that makes the browser drop the cookie (empty value, Max-Age=0).
std::string build_expired_cookie(const CookieSpec& spec);

// Every value of cookie `name` in the Cookie header(s), in order, quotes removed.
std::vector<std::string_view> find_cookie_values(const std::vector<std::string_view>& headers,
                                                 std::string_view name);
// One Cookie header with every cookie except `name`; nullopt when none remains.
std::optional<std::string> strip_cookie(const std::vector<std::string_view>& headers,
                                        std::string_view name);

}  // namespace jotgate::session
