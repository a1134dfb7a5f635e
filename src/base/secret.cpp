#include "base/secret.h"

#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace jotgate {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Lengths of our secrets are public (fixed by format); only contents must not leak.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Sha256 sha256(std::string_view data) {
  // Fetched once: SHA256() would look the algorithm up by name on every call (OpenSSL 3).
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Sha256 digest;
  unsigned int length = 0;
  if (algorithm == nullptr ||
      EVP_Digest(data.data(), data.size(), digest.data(), &length, algorithm, nullptr) != 1 ||
      length != digest.size()) {
    std::abort();  // no SHA-256: fingerprints could not tell secrets apart
  }
  return digest;
}

}  // namespace jotgate
