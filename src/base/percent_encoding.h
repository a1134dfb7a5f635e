// Percent-encoding (RFC 3986 section 2.1), one way everywhere: request paths, form fields,
// admin API path segments (decoding), query values and audit values (encoding).
//   percent_decode("a%2Fb") -> "a/b";  percent_decode("a+b", true) -> "a b"
//   percent_encode("a b/c", is_unreserved) -> "a%20b%2Fc"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/hex.h"

namespace jotgate {

// `text` with every %XX replaced by its byte (and '+' by a space when `plus_is_space`, as in
// application/x-www-form-urlencoded); nullopt for a '%' not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

// RFC 3986 unreserved: ALPHA, DIGIT, '-', '.', '_', '~'.
bool is_unreserved(unsigned char c);

// `text` with every byte that `keep` refuses written as %XX (upper-case hex).
std::string percent_encode(std::string_view text, bool (*keep)(unsigned char));

// The value of parameter `name` in a query or form body ("a=1&b=2"): its first occurrence,
// still percent-encoded ("" for a bare "name"); nullopt when absent.
std::optional<std::string_view> query_param(std::string_view query, std::string_view name);

}  // namespace jotgate
