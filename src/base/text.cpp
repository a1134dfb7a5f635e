#include "base/text.h"

#include <algorithm>

namespace jotgate {

std::string_view trim_whitespace(std::string_view s) {
  constexpr std::string_view kWhitespace = " \t\r\n";
  const std::size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool has_control(std::string_view s) { return std::any_of(s.begin(), s.end(), is_control); }

std::string url_without_password(std::string_view url) {
  std::string out(url);
  const std::size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    const std::size_t start = scheme_end + 3;
    const std::size_t authority_end = out.find_first_of("/?#", start);
    const std::size_t at =
        out.rfind('@', authority_end == std::string::npos ? out.size() - 1 : authority_end - 1);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
    }
  }
  // password=... among the query parameters, up to the next '&' or '#'.
  for (std::size_t query = out.find('?'); query != std::string::npos;) {
    std::size_t key = out.find("password=", query);
    if (key == std::string::npos) break;
    const char before = out[key - 1];
    const std::size_t end = out.find_first_of("&#", key);
    if (before == '?' || before == '&') {
      const std::size_t erase_from = before == '&' ? key - 1 : key;
      const std::size_t erase_to = end == std::string::npos           ? out.size()
                                   : before == '?' && out[end] == '&' ? end + 1
                                                                      : end;
      out.erase(erase_from, erase_to - erase_from);
      query = out.find('?');
      if (query != std::string::npos && query + 1 == out.size()) out.pop_back();
      continue;
    }
    query = key + 1;
  }
  return out;
}

}  // namespace jotgate
