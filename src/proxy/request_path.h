// Request targets, parsed strictly before routing, and the prefix table that routes them.
// A target that could reach an upstream on a path its prefix did not authorise (dot segments,
// encoded '/', '\\' or '.', control characters) is refused, never "fixed up".
//   auto target = parse_request_target("/jwt/app?x=1");     // Result<RequestTarget>
//   auto match = routes.match(target->path);                  // optional<RouteMatch>
//   auto upstream_target = build_upstream_target(vp, *match, *target);
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/percent_encoding.h"
#include "base/result.h"

namespace jotgate::config {
struct Upstream;
}

namespace jotgate::proxy {

// An origin-form target split at '?'. Views into the original target.
struct RequestTarget {
  std::string_view path;   // starts with '/'
  std::string_view query;  // without the '?'
  bool has_query = false;
};

// Origin-form only ("/path?query"); refuses (kBadRequest, detail says why) absolute-form,
// authority-form and "*", control characters and NUL anywhere, '\\' and '#' in the path,
// malformed percent-encoding, encoded '/', '\\', '.', NUL or control characters in any segment,
// encoded unreserved characters in the first segment (the one prefixes match), and dot
// segments ("." and "..", also "..;x").
Result<RequestTarget> parse_request_target(std::string_view target);

struct RouteMatch {
  std::size_t virtual_proxy_index = 0;
  std::string_view prefix;  // "" for the root
  std::string_view rest;    // the path after "/<prefix>": "" or "/..." (the whole path for "")
};

// Prefixes of the virtual proxies linked to one listener. A prefix is one path segment
// ([a-z0-9._-]), so matching is a lookup of the first segment; "" catches everything else.
class RouteTable {
 public:
  void add(std::string prefix, std::size_t virtual_proxy_index);
  // `path` must come from parse_request_target.
  std::optional<RouteMatch> match(std::string_view path) const;
  bool empty() const { return routes_.empty() && !root_; }

 private:
  struct Route {
    std::string prefix;
    std::size_t virtual_proxy_index;
  };
  std::vector<Route> routes_;
  std::optional<std::size_t> root_;
};

// The target sent upstream: the upstream's base path, then the path (without "/<prefix>" when
// strip_prefix; at least "/"), then "?query" as received.
std::string build_upstream_target(const config::Upstream& upstream, bool strip_prefix,
                                  const RouteMatch& match, const RequestTarget& target);

}  // namespace jotgate::proxy
