#include "base/random.h"

#include <climits>
#include <cstdlib>
#include <vector>

#include <openssl/rand.h>

#include "base/hex.h"

namespace jotgate {

void random_bytes(std::span<unsigned char> out) {
  if (out.size() > INT_MAX || RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::abort();
  }
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  random_bytes(raw);
  return hex_encode({reinterpret_cast<const char*>(raw.data()), raw.size()});
}

}  // namespace jotgate
