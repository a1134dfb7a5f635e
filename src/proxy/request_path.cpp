#include "proxy/request_path.h"

#include "base/hex.h"
#include "base/text.h"
#include "config/gateway_config.h"

namespace jotgate::proxy {

namespace {

Error bad(std::string detail) { return make_error(Reason::kBadRequest, std::move(detail)); }

// Checks one path segment (between slashes). `first` is the segment prefixes are matched on.
Result<void> check_segment(std::string_view segment, bool first) {
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') continue;
    if (i + 2 >= segment.size()) {
      return bad("malformed percent-encoding in the path");
    }
    int high = hex_value(segment[i + 1]);
    int low = hex_value(segment[i + 2]);
    if (high < 0 || low < 0) return bad("malformed percent-encoding in the path");
    const auto decoded = static_cast<char>(high * 16 + low);
    if (decoded == '/' || decoded == '\\' || decoded == '.' || is_control(decoded)) {
      return bad("encoded '/', '\\', '.' or control character in the path");
    }
    if (first && is_unreserved(decoded)) {
      return bad("percent-encoded character in the prefix segment");
    }
    i += 2;
  }
  // Dot segments, also with a path parameter ("..;x" is ".." to some servers).
  std::string_view name = segment.substr(0, segment.find(';'));
  if (name == "." || name == "..") return bad("dot segment in the path");
  return {};
}

}  // namespace

Result<RequestTarget> parse_request_target(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return bad("only origin-form request targets (\"/path\") are accepted");
  }
  for (char c : target) {
    if (is_control(static_cast<unsigned char>(c))) {
      return bad("control character in the request target");
    }
  }
  RequestTarget result;
  std::size_t question = target.find('?');
  result.path = target.substr(0, question);
  if (question != std::string_view::npos) {
    result.query = target.substr(question + 1);
    result.has_query = true;
  }
  if (result.path.find('\\') != std::string_view::npos) return bad("backslash in the path");
  if (result.path.find('#') != std::string_view::npos) return bad("fragment in the request target");

  std::size_t start = 1;
  bool first = true;
  while (start <= result.path.size()) {
    std::size_t slash = result.path.find('/', start);
    std::size_t end = slash == std::string_view::npos ? result.path.size() : slash;
    auto checked = check_segment(result.path.substr(start, end - start), first);
    if (!checked) return checked.error();
    first = false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return result;
}

void RouteTable::add(std::string prefix, std::size_t virtual_proxy_index) {
  if (prefix.empty()) {
    root_ = virtual_proxy_index;
  } else {
    routes_.push_back(Route{std::move(prefix), virtual_proxy_index});
  }
}

std::optional<RouteMatch> RouteTable::match(std::string_view path) const {
  std::string_view segment = path.substr(1);
  std::size_t slash = segment.find('/');
  segment = segment.substr(0, slash);
  for (const Route& route : routes_) {
    if (route.prefix == segment) {
      return RouteMatch{route.virtual_proxy_index, route.prefix,
                        path.substr(1 + route.prefix.size())};
    }
  }
  if (root_) return RouteMatch{*root_, std::string_view{}, path};
  return std::nullopt;
}

std::string build_upstream_target(const config::Upstream& upstream, bool strip_prefix,
                                  const RouteMatch& match, const RequestTarget& target) {
  std::string_view path = strip_prefix ? match.rest : target.path;
  if (path.empty()) path = "/";
  std::string_view base = upstream.base_path;
  if (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string out;
  out.reserve(base.size() + path.size() + target.query.size() + 1);
  out.append(base);
  out.append(path);
  if (target.has_query) {
    out.push_back('?');
    out.append(target.query);
  }
  return out;
}

}  // namespace jotgate::proxy
