// Secrets (session ids, tickets, HMAC tags, tokens): constant-time comparison, where the time
// taken depends only on the lengths, never on where the inputs differ; and SHA-256, to keep
// or compare a fingerprint instead of the secret itself.
//   if (constant_time_equal(presented, expected)) ...
//   Sha256 key = sha256(token);
#pragma once

#include <array>
#include <string_view>

namespace jotgate {

bool constant_time_equal(std::string_view a, std::string_view b);

using Sha256 = std::array<unsigned char, 32>;
Sha256 sha256(std::string_view data);

}  // namespace jotgate
