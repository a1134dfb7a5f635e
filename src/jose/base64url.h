// base64url exactly as RFC 7515 section 2 defines it: URL-safe alphabet, no padding, no
// whitespace. Anything else (padding, '+', '/', line breaks, impossible lengths, non-zero
// trailing bits) is malformed.
//   base64url_encode("hi") -> "aGk";  base64url_decode("aGk") -> "hi"
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace jotgate::jose {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
// The same rules, into `out`, which the text must fill exactly; allocates nothing (for fixed-size
// values on the request path, such as session cookies). False when malformed or another size.
bool base64url_decode_into(std::string_view text, std::span<unsigned char> out);

}  // namespace jotgate::jose
