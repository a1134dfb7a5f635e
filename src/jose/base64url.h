// base64url exactly as RFC 7515 section 2 defines it: URL-safe alphabet, no padding, no
// whitespace. Anything else (padding, '+', '/', line breaks, impossible lengths, non-zero
// trailing bits) is malformed.
//   base64url_encode("hi") -> "aGk";  base64url_decode("aGk") -> "hi"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jotgate::jose {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace jotgate::jose
