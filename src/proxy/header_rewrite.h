// Header rewriting between client and upstream: hop-by-hop removal (RFC 9110 section 7.6.1),
// removal of client-sent identity, X-Forwarded-* and underscored headers, of an upstream's
// Set-Cookie for the session cookie, and the headers the gateway adds.
// Built once per virtual proxy; rewrite_* do no allocation beyond the headers they add.
//   HeaderPolicy policy({gate.reserved_request_headers(), vp.response_headers,
//                        vp.session.cookie_name, vp.allow_underscores_in_headers});
//   policy.rewrite_request(request_header, decision, forwarded, /*websocket=*/false);
//   policy.rewrite_response(response_header, decision, /*upgrade=*/false);
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "auth/gate.h"

namespace jotgate::proxy {

namespace http = boost::beast::http;

// What the gateway tells the upstream about the client.
struct ForwardedInfo {
  std::string_view client_ip;
  bool tls = false;
  std::string_view prefix;         // "jwt" gives X-Forwarded-Prefix: /jwt; "" sends none
  std::string_view upstream_host;  // Host sent upstream: "host:port"
  // proxy/request_identity.h; "" sends none. The client's own are always removed, its
  // tracestate too unless `forward_tracestate` (its traceparent was valid and goes on).
  std::string_view request_id = {};
  std::string_view traceparent = {};
  bool forward_tracestate = false;
};

// Removes Connection and every header it names (except the framing headers Content-Length,
// Transfer-Encoding and Host, which a client must not be able to strip), Keep-Alive,
// Proxy-Connection, Proxy-Authorization, TE, Trailer, and Upgrade unless `keep_upgrade`
// (then Connection: Upgrade is set again).
void remove_hop_by_hop(http::fields& fields, bool keep_upgrade);

// True for "Upgrade: websocket" with "Connection: ... upgrade ...".
bool is_websocket_upgrade(const http::fields& fields);

// Host names compared without port, case-insensitively; an entry with a port must match the
// port too. "" (no host) never matches.
bool host_allowed(const std::vector<std::string>& allow_list, std::string_view host_port);
// "https://app.example.com:8443" -> "app.example.com:8443"; "" when not a URL.
std::string_view origin_authority(std::string_view origin);

// The header block of a message as it goes on the wire ("HTTP/1.1", then the fields in order),
// written into `out` (a buffer the connection reuses): one contiguous buffer that leaves with
// the first body bytes in one write.
void write_head(const http::request_header<>& request, std::string& out);
void write_head(const http::response_header<>& response, std::string& out);

struct HeaderPolicySettings {
  std::vector<std::string> reserved_request_headers;  // the gate's: identity, claims, ...
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::string session_cookie_name;  // an upstream may not set it
  // False: client header names holding '_' are dropped (CGI-style apps read '_' as '-').
  // True: they pass, except those naming a header the gateway controls with '_' read as '-'.
  bool allow_underscores = false;
};

class HeaderPolicy {
 public:
  explicit HeaderPolicy(HeaderPolicySettings settings);

  // Client request -> upstream request (header only; framing headers are left to the caller).
  // False (request unchanged) when a value to add holds CR, LF or another control character:
  // a claim must not be able to add header lines; the caller refuses the request.
  [[nodiscard]] bool rewrite_request(http::request_header<>& request,
                                     const auth::Decision& decision, const ForwardedInfo& forwarded,
                                     bool websocket) const;
  // Upstream response -> client response; an upstream's Set-Cookie for the session cookie
  // is removed.
  void rewrite_response(http::response_header<>& response, const auth::Decision& decision,
                        bool upgrade) const;
  // The virtual proxy's response_headers, on every answer (also refusals).
  void add_response_headers(http::fields& fields) const;

 private:
  // True when the client header `name` is never forwarded.
  bool stripped(std::string_view name) const;
  // True when the upstream's Set-Cookie value sets the session cookie.
  bool sets_session_cookie(std::string_view set_cookie) const;

  std::vector<std::string> stripped_;  // client headers never forwarded
  // With allow_underscores: every header name the gateway controls, for names
  // holding '_' compared with '_' read as '-'.
  std::vector<std::string> underscore_protected_;
  std::vector<std::pair<std::string, std::string>> response_headers_;
  std::string session_cookie_name_;
  bool allow_underscores_ = false;
};

}  // namespace jotgate::proxy
