// Text rules of HTTP fields (RFC 9110 section 5.6), shared by every parser of header values.
//   trim_ows("  chunked\t") == "chunked"
//   for_each_list_element("gzip, ,chunked", [](std::string_view e) { ... });  // "gzip", "chunked"
#pragma once

#include <string_view>

namespace jotgate {

// Without the optional white space (SP, HTAB) around it.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

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
