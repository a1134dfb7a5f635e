// Unpredictable bytes and ids from OpenSSL's CSPRNG, for everything an attacker must not guess
// (session ids, tickets, anonymous user ids, certificate serials, temporary file names).
// Without a working CSPRNG the process aborts: it never hands out a guessable id.
//   std::array<unsigned char, 32> id;  random_bytes(id);
//   std::string name = "anon-" + random_hex(12);   // 24 hex digits
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace jotgate {

void random_bytes(std::span<unsigned char> out);

// `bytes` random bytes as 2 * `bytes` lower-case hex digits.
std::string random_hex(std::size_t bytes);

}  // namespace jotgate
