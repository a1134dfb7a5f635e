// What a client presents in its Authorization header, read one way for the gateway and the
// admin API alike.
//   bearer_token("Bearer abc")  -> "abc";   bearer_token("Basic YTpi") -> nullopt
#pragma once

#include <optional>
#include <string_view>

namespace jotgate::auth {

// The token of "Bearer <token>" (scheme in any case, spaces around trimmed); nullopt when the
// header is absent or names another scheme ("Basic", "Bearerx").
std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization);

}  // namespace jotgate::auth
