// The framing rules of RFC 9112 that Beast's parser leaves to the server, checked on every
// request head before it is routed or forwarded: a request an upstream could read differently
// (another body length, another host) is answered here and the connection closed.
//   if (auto problem = check_request_head(request)) refuse(problem->reason, problem->detail);
#pragma once

#include <optional>
#include <string_view>

#include <boost/beast/http/message.hpp>

#include "base/reason.h"

namespace jotgate::proxy {

namespace http = boost::beast::http;

struct FramingProblem {
  Reason reason;            // kFramingInvalid, kHostMissing, kCodingNotImplemented (501) or
                            // kMethodNotAllowed (CONNECT)
  std::string_view detail;  // what is wrong, e.g. "more than one Host header"
};

// Refuses: Transfer-Encoding in an HTTP/1.0 request (400); an unknown coding (501); a final
// coding other than `chunked` or `chunked` applied twice (400); any other coding, which the
// gateway does not apply (501); a repeated Content-Length (400); a missing (HTTP/1.1),
// repeated or invalid Host (400); CONNECT (405).
std::optional<FramingProblem> check_request_head(const http::request_header<>& request);

// True when a raw request head continues a field line on the next (a line starting with SP or
// HTAB): obs-fold, refused with 400 (RFC 9112 section 5.2).
bool has_obs_fold(std::string_view raw_head);

// True when `text` holds a LF not preceded by CR: a line of the HTTP/1.1 syntax that ends
// wrongly (a chunk-size line or a trailer, RFC 9112 section 2.2).
bool has_bare_lf(std::string_view text);

// Host = uri-host [ ":" port ] (RFC 9110 section 7.2, RFC 3986): a reg-name, IPv4 address or
// bracketed IP literal, and digits after the colon. "" is valid (a target without authority).
bool valid_host(std::string_view host);

}  // namespace jotgate::proxy
