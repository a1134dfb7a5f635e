#include "session/cookie.h"

#include "base/text.h"

namespace jotgate::session {

namespace {

// Calls fn(name, value, whole_pair) for each "name=value" pair of the Cookie headers.
template <class Fn>
void for_each_cookie(const std::vector<std::string_view>& headers, Fn fn) {
  for (std::string_view header : headers) {
    while (!header.empty()) {
      std::size_t semi = header.find(';');
      std::string_view pair = trim_ows(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      if (pair.empty()) continue;
      std::size_t eq = pair.find('=');
      std::string_view name = trim_ows(pair.substr(0, eq));
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : trim_ows(pair.substr(eq + 1));
      fn(name, value, pair);
    }
  }
}

std::string attributes(const CookieSpec& spec) {
  std::string out = "; Path=" + spec.path + "; HttpOnly";
  if (spec.secure) out += "; Secure";
  switch (spec.same_site) {
    case CookieSameSite::kLax: out += "; SameSite=Lax"; break;
    case CookieSameSite::kStrict: out += "; SameSite=Strict"; break;
    case CookieSameSite::kNone: out += "; SameSite=None"; break;
  }
  if (spec.partitioned && spec.secure) out += "; Partitioned";
  if (!spec.domain.empty()) out += "; Domain=" + spec.domain;
  return out;
}

}  // namespace

std::string build_set_cookie(const CookieSpec& spec, std::string_view value) {
  std::string out = spec.name + "=" + std::string(value) + attributes(spec);
  if (spec.max_age_seconds > 0) out += "; Max-Age=" + std::to_string(spec.max_age_seconds);
  return out;
}

std::string build_expired_cookie(const CookieSpec& spec) {
  return spec.name + "=" + attributes(spec) + "; Max-Age=0";
}

std::vector<std::string_view> find_cookie_values(const std::vector<std::string_view>& headers,
                                                 std::string_view name) {
  std::vector<std::string_view> values;
  for_each_cookie(headers, [&](std::string_view n, std::string_view v, std::string_view) {
    if (n != name) return;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    values.push_back(v);
  });
  return values;
}

std::optional<std::string> strip_cookie(const std::vector<std::string_view>& headers,
                                        std::string_view name) {
  std::string out;
  for_each_cookie(headers, [&](std::string_view n, std::string_view, std::string_view pair) {
    if (n == name) return;
    if (!out.empty()) out += "; ";
    out += pair;
  });
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace jotgate::session
