#include "proxy/request_framing.h"

#include <algorithm>

#include "base/hex.h"
#include "base/text.h"

namespace jotgate::proxy {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// unreserved / sub-delims (RFC 3986 section 2): what a reg-name holds besides pct-encoding.
bool is_reg_name_char(char c) {
  return is_alpha(c) || is_digit(c) ||
         std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool valid_reg_name(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%') {
      if (i + 2 >= name.size() || hex_value(name[i + 1]) < 0 || hex_value(name[i + 2]) < 0) {
        return false;
      }
      i += 2;
    } else if (!is_reg_name_char(name[i])) {
      return false;
    }
  }
  return true;
}

// "[v6 address]" or "[vX.future]": the characters RFC 3986 allows between the brackets.
bool valid_ip_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  std::string_view inside = literal.substr(1, literal.size() - 2);
  return std::all_of(inside.begin(), inside.end(),
                     [](char c) { return c == ':' || is_reg_name_char(c); });
}

constexpr FramingProblem kTransferEncodingInHttp10{
    Reason::kFramingInvalid, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
constexpr FramingProblem kChunkedNotFinal{Reason::kFramingInvalid,
                                          "the final transfer coding must be chunked"};
constexpr FramingProblem kChunkedTwice{Reason::kFramingInvalid,
                                       "chunked is applied more than once"};
constexpr FramingProblem kCodingUnknown{Reason::kCodingNotImplemented, "unknown transfer coding"};
constexpr FramingProblem kCodingNotImplemented{Reason::kCodingNotImplemented,
                                               "the only transfer coding accepted is chunked"};
constexpr FramingProblem kContentLengthRepeated{Reason::kFramingInvalid,
                                                "more than one Content-Length header"};
constexpr FramingProblem kHostMissing{Reason::kHostMissing, "the Host header is missing"};
constexpr FramingProblem kHostRepeated{Reason::kFramingInvalid, "more than one Host header"};
constexpr FramingProblem kHostInvalid{Reason::kFramingInvalid,
                                      "the Host header is not a valid host"};
constexpr FramingProblem kConnect{Reason::kMethodNotAllowed, "CONNECT is not served here"};

// The transfer codings of the IANA registry (RFC 9112 section 7), "identity" included: it was
// registered once, so a request naming it is read as framing gone wrong, not as a new coding.
bool is_registered_coding(std::string_view coding) {
  for (std::string_view known :
       {"chunked", "compress", "deflate", "gzip", "identity", "trailers", "x-compress", "x-gzip"}) {
    if (iequals(coding, known)) return true;
  }
  return false;
}

std::optional<FramingProblem> check_transfer_encoding(const http::request_header<>& request) {
  auto range = request.equal_range(http::field::transfer_encoding);
  if (range.first == range.second) return std::nullopt;
  if (request.version() < 11) return kTransferEncodingInHttp10;
  std::size_t codings = 0;
  std::size_t chunked = 0;
  bool last_chunked = false;
  bool other = false;    // a registered coding besides chunked (gzip...): not implemented here
  bool unknown = false;  // not a registered coding at all
  for (auto it = range.first; it != range.second; ++it) {
    for_each_list_element(it->value(), [&](std::string_view coding) {
      ++codings;
      last_chunked = iequals(coding, "chunked");
      if (last_chunked)
        ++chunked;
      else if (is_registered_coding(coding))
        other = true;
      else
        unknown = true;
    });
  }
  // An unknown coding first (RFC 9112 section 6.1: 501), then a body whose length cannot be
  // determined (section 6.3: 400), then codings this gateway does not apply (501).
  if (unknown) return kCodingUnknown;
  if (codings == 0 || !last_chunked) return kChunkedNotFinal;
  if (chunked > 1) return kChunkedTwice;
  if (other) return kCodingNotImplemented;
  return std::nullopt;
}

std::optional<FramingProblem> check_host(const http::request_header<>& request) {
  auto range = request.equal_range(http::field::host);
  if (range.first == range.second) {
    if (request.version() >= 11) return kHostMissing;
    return std::nullopt;
  }
  if (std::next(range.first) != range.second) return kHostRepeated;
  if (!valid_host(range.first->value())) return kHostInvalid;
  return std::nullopt;
}

}  // namespace

bool valid_host(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(0, close + 1);
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
    }
    if (!valid_ip_literal(name)) return false;
  } else {
    const std::size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
    }
    if (!valid_reg_name(name)) return false;  // an IPv4 address is a reg-name too
  }
  if (port.size() > 5) return false;
  return std::all_of(port.begin(), port.end(), is_digit);
}

bool has_obs_fold(std::string_view raw_head) {
  for (std::size_t lf = raw_head.find('\n');
       lf != std::string_view::npos && lf + 1 < raw_head.size(); lf = raw_head.find('\n', lf + 1)) {
    if (raw_head[lf + 1] == ' ' || raw_head[lf + 1] == '\t') return true;
  }
  return false;
}

bool has_bare_lf(std::string_view text) {
  for (std::size_t lf = text.find('\n'); lf != std::string_view::npos;
       lf = text.find('\n', lf + 1)) {
    if (lf == 0 || text[lf - 1] != '\r') return true;
  }
  return false;
}

std::optional<FramingProblem> check_request_head(const http::request_header<>& request) {
  if (request.method() == http::verb::connect) return kConnect;
  if (auto problem = check_transfer_encoding(request)) return problem;
  // Beast merges repeated equal values; refused all the same, as nginx does: two framing
  // headers are never a request some other server should be left to read.
  if (request.count(http::field::content_length) > 1) return kContentLengthRepeated;
  return check_host(request);
}

}  // namespace jotgate::proxy
