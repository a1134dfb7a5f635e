// ASCII text helpers, one copy each: trimming, case-insensitive comparison (locale-free, for
// protocol names and header values), control characters, and the list rule of HTTP fields
// (RFC 9110 section 5.6).
//   trim_ows("  chunked\t") == "chunked"          trim_whitespace(" tok\r\n") == "tok"
//   iequals("Bearer", "bearer")                    istarts_with("X-Forwarded-For", "x-forwarded-")
//   to_lower("Host.TEST") == "host.test"           has_control("a\nb") == true
//   for_each_list_element("gzip, ,chunked", [](std::string_view e) { ... });  // "gzip", "chunked"
#pragma once

#include <string>
#include <string_view>

namespace jotgate {

// Without the optional white space (SP, HTAB) around it: HTTP's OWS.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Without the spaces, tabs, CRs and LFs around it (text read from a file or standard input).
std::string_view trim_whitespace(std::string_view s);

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string to_lower(std::string_view s);

// Equal when ASCII letters are compared without case; other bytes must match exactly.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);

// C0 controls and DEL: bytes that must not reach a header line, a log line or a URL unescaped.
inline bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}
bool has_control(std::string_view s);

// A connection URL (postgresql://, redis://, ...) as logs and messages may show it: the password
// of `user:password@` and a `password=` query parameter left out.
std::string url_without_password(std::string_view url);

// Calls f(element) for each element of a comma-separated list value, trimmed; empty elements
// are skipped, as recipients must (RFC 9110 section 5.6.1).
template <class F>
void for_each_list_element(std::string_view value, F&& f) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace jotgate
