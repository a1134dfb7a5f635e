#include "auth/anonymous_authenticator.h"

#include <cstdlib>
#include <string>

#include <openssl/rand.h>

namespace jotgate::auth {

namespace {

// TODO(merge): base/random.h (branch prims) has this one; use it there.
std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    std::abort();
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

Result<Credential> AnonymousAuthenticator::authenticate() const {
  if (mode_ == config::AnonymousMode::kNone) return make_error(Reason::kNoCredentials);
  return Credential{{std::string(kAnonymousDirectory), "anon-" + random_hex(12)}, {}};
}

}  // namespace jotgate::auth
