// The Cookie header parser: the input is one or more Cookie header values, one per line. Reading
// the session cookie must not crash, and the Cookie header forwarded upstream (strip_cookie) must
// never still carry the session cookie.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "session/cookie.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> headers;
  while (!input.empty()) {
    const std::size_t newline = input.find('\n');
    headers.push_back(input.substr(0, newline));
    if (newline == std::string_view::npos) break;
    input.remove_prefix(newline + 1);
  }
  for (std::string_view name : {"X-Jotgate-Session-jwt", "X-Jotgate-Session", "a"}) {
    (void)jotgate::session::find_cookie_values(headers, name);
    if (auto forwarded = jotgate::session::strip_cookie(headers, name)) {
      if (!jotgate::session::find_cookie_values({*forwarded}, name).empty()) std::abort();
    }
  }
  return 0;
}
