// The cross-site rule of the admin listener: a request that can change something (any method but
// GET, HEAD, OPTIONS) sent by a page of another site is refused before anything else, whatever
// credentials it carries. A browser says where a request comes from in Origin and
// Sec-Fetch-Site; clients that are not browsers send neither and are not affected.
//   if (is_cross_site_change({.method = "POST", .host = "127.0.0.1:4243",
//                             .origin = "https://evil.example"})) refuse(403, "CSRF_REJECTED");
#pragma once

#include <optional>
#include <string_view>

namespace jotgate::console {

struct RequestOrigin {
  std::string_view method;
  std::string_view host;  // the Host header: the admin listener as the browser addressed it
  std::optional<std::string_view> origin;
  std::optional<std::string_view> sec_fetch_site;
};

// POST, PUT, DELETE, PATCH and any other method that is not GET, HEAD or OPTIONS.
bool is_unsafe_method(std::string_view method);

// An unsafe request whose Origin is not https://<host> (an opaque "null" origin included), or
// whose Sec-Fetch-Site is cross-site or same-site (another port or subdomain of this host).
bool is_cross_site_change(const RequestOrigin& request);

}  // namespace jotgate::console
