#include "proxy/header_rewrite.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>

#include <boost/beast/http/rfc7230.hpp>

#include "base/text.h"

namespace jotgate::proxy {

namespace {

// A value from a token claim must not be able to add header lines (CR, LF) or cut one (NUL).
bool safe_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c != '\t' && is_control(c); });
}

constexpr std::array<std::string_view, 3> kFramingHeaders{"content-length", "transfer-encoding",
                                                          "host"};
constexpr std::array<std::string_view, 6> kHopByHop{
    "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "upgrade"};

}  // namespace

namespace {

void append_fields(const http::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    out.append(field.name_string());
    out.append(": ");
    out.append(field.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

void write_head(const http::request_header<>& request, std::string& out) {
  out.assign(request.method_string());
  out.push_back(' ');
  out.append(request.target());
  out.append(" HTTP/1.1\r\n");
  append_fields(request, out);
}

void write_head(const http::response_header<>& response, std::string& out) {
  const unsigned status = response.result_int();
  out.assign("HTTP/1.1 ");
  out.push_back(static_cast<char>('0' + status / 100 % 10));
  out.push_back(static_cast<char>('0' + status / 10 % 10));
  out.push_back(static_cast<char>('0' + status % 10));
  out.push_back(' ');
  boost::beast::string_view reason = response.reason();
  if (reason.empty()) reason = http::obsolete_reason(response.result());
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  append_fields(response, out);
}

void remove_hop_by_hop(http::fields& fields, bool keep_upgrade) {
  // Names listed in Connection, collected first: erasing invalidates the values we read.
  std::vector<std::string> named;
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    for (std::string_view token : http::token_list(it->value())) {
      bool framing = std::any_of(kFramingHeaders.begin(), kFramingHeaders.end(),
                                 [&](std::string_view f) { return iequals(f, token); });
      bool upgrade = keep_upgrade && iequals(token, "upgrade");
      if (!framing && !upgrade) named.emplace_back(token);
    }
  }
  for (const auto& name : named) fields.erase(name);
  fields.erase(http::field::connection);
  for (std::string_view name : kHopByHop) {
    if (keep_upgrade && name == "upgrade") continue;
    fields.erase(name);
  }
  if (keep_upgrade) fields.set(http::field::connection, "Upgrade");
}

bool is_websocket_upgrade(const http::fields& fields) {
  auto upgrade = fields.find(http::field::upgrade);
  if (upgrade == fields.end()) return false;
  bool websocket = false;
  for_each_list_element(upgrade->value(), [&](std::string_view token) {
    if (iequals(token, "websocket")) websocket = true;
  });
  if (!websocket) return false;
  for (auto it = fields.find(http::field::connection);
       it != fields.end() && it->name() == http::field::connection; ++it) {
    if (http::token_list(it->value()).exists("upgrade")) return true;
  }
  return false;
}

namespace {

// "Host:port" -> "host"; "[::1]:8443" -> "[::1]".
std::string_view host_without_port(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    std::size_t close = host_port.find(']');
    return close == std::string_view::npos ? host_port : host_port.substr(0, close + 1);
  }
  return host_port.substr(0, host_port.find(':'));
}

}  // namespace

bool host_allowed(const std::vector<std::string>& allow_list, std::string_view host_port) {
  host_port = trim_ows(host_port);
  if (host_port.empty()) return false;
  std::string_view host = host_without_port(host_port);
  for (const auto& allowed : allow_list) {
    if (iequals(allowed, host_port) || iequals(allowed, host)) return true;
  }
  return false;
}

std::string_view origin_authority(std::string_view origin) {
  std::size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = origin.substr(scheme_end + 3);
  return rest.substr(0, rest.find('/'));
}

namespace {

// `name` names `protected_name` when '_' is read as '-', case-insensitively (CGI and WSGI turn
// both into '_', so X_Jotgate_User reaches an app as X-Jotgate-User would).
bool same_as_dashes(std::string_view name, std::string_view protected_name) {
  return name.size() == protected_name.size() &&
         std::equal(name.begin(), name.end(), protected_name.begin(), [](char c, char p) {
           return ascii_lower(c == '_' ? '-' : c) == ascii_lower(p);
         });
}

}  // namespace

HeaderPolicy::HeaderPolicy(HeaderPolicySettings settings)
    : response_headers_(std::move(settings.response_headers)),
      session_cookie_name_(std::move(settings.session_cookie_name)),
      allow_underscores_(settings.allow_underscores) {
  // What the gateway sets itself, and what fronting proxies use to name the client or the URL.
  stripped_ = {"x-forwarded-for",  "x-forwarded-proto",  "x-forwarded-host", "x-forwarded-prefix",
               "x-forwarded-port", "x-forwarded-server", "forwarded",        "x-real-ip",
               "true-client-ip",   "x-client-ip",        "x-original-url",   "x-rewrite-url",
               "expect",           "x-request-id",       "traceparent"};
  stripped_.insert(stripped_.end(), settings.reserved_request_headers.begin(),
                   settings.reserved_request_headers.end());
  underscore_protected_ = stripped_;
  for (std::string_view name : {"authorization", "cookie", "connection"}) {
    underscore_protected_.emplace_back(name);
  }
  underscore_protected_.insert(underscore_protected_.end(), kFramingHeaders.begin(),
                               kFramingHeaders.end());
  underscore_protected_.insert(underscore_protected_.end(), kHopByHop.begin(), kHopByHop.end());
}

bool HeaderPolicy::stripped(std::string_view name) const {
  const bool underscored = name.find('_') != std::string_view::npos;
  if (underscored && !allow_underscores_) return true;
  const auto& names = underscored ? underscore_protected_ : stripped_;
  return std::any_of(names.begin(), names.end(), [&](const std::string& protected_name) {
    return same_as_dashes(name, protected_name);
  });
}

bool HeaderPolicy::sets_session_cookie(std::string_view set_cookie) const {
  // As a browser reads it (RFC 6265bis 5.6): the name is what precedes the first '=' of the
  // part before the first ';', trimmed; without '=' the cookie has no name.
  std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
  const std::size_t equals = pair.find('=');
  if (equals == std::string_view::npos) return false;
  return trim_ows(pair.substr(0, equals)) == session_cookie_name_;
}

bool HeaderPolicy::rewrite_request(http::request_header<>& request, const auth::Decision& decision,
                                   const ForwardedInfo& forwarded, bool websocket) const {
  if (decision.upstream_cookie && !safe_value(*decision.upstream_cookie)) return false;
  for (const auto& header : decision.upstream_headers) {
    if (!safe_value(header.second)) return false;
  }
  remove_hop_by_hop(request, websocket);
  // The client's Host goes to X-Forwarded-Host; the upstream gets its own name.
  auto host = request.find(http::field::host);
  std::optional<std::string> client_host;
  if (host != request.end()) client_host.emplace(host->value());
  for (auto it = request.begin(); it != request.end();) {
    it = stripped(it->name_string()) ? request.erase(it) : std::next(it);
  }
  if (client_host) request.set("X-Forwarded-Host", *client_host);
  request.set(http::field::host, forwarded.upstream_host);
  request.erase(http::field::cookie);
  if (decision.upstream_cookie) request.set(http::field::cookie, *decision.upstream_cookie);
  for (const auto& [name, value] : decision.upstream_headers) request.set(name, value);
  if (!forwarded.forward_tracestate) request.erase("tracestate");
  if (!forwarded.request_id.empty()) request.set("X-Request-Id", forwarded.request_id);
  if (!forwarded.traceparent.empty()) request.set("traceparent", forwarded.traceparent);
  request.set("X-Forwarded-For", forwarded.client_ip);
  request.set("X-Forwarded-Proto", forwarded.tls ? "https" : "http");
  if (!forwarded.prefix.empty()) {
    std::string prefix;
    prefix.reserve(forwarded.prefix.size() + 1);
    prefix.push_back('/');
    prefix.append(forwarded.prefix);
    request.set("X-Forwarded-Prefix", prefix);
  }
  return true;
}

void HeaderPolicy::rewrite_response(http::response_header<>& response,
                                    const auth::Decision& decision, bool upgrade) const {
  remove_hop_by_hop(response, upgrade);
  auto [it, end] = response.equal_range(http::field::set_cookie);
  while (it != end) it = sets_session_cookie(it->value()) ? response.erase(it) : std::next(it);
  if (decision.set_cookie && safe_value(*decision.set_cookie))
    response.insert(http::field::set_cookie, *decision.set_cookie);
  add_response_headers(response);
}

void HeaderPolicy::add_response_headers(http::fields& fields) const {
  for (const auto& [name, value] : response_headers_) fields.set(name, value);
}

}  // namespace jotgate::proxy
