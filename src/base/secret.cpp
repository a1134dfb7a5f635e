#include "base/secret.h"

#include <openssl/crypto.h>

namespace jotgate {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Lengths of our secrets are public (fixed by format); only contents must not leak.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace jotgate
