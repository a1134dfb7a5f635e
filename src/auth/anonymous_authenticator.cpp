#include "auth/anonymous_authenticator.h"

#include <string>

#include "base/random.h"

namespace jotgate::auth {

Result<Credential> AnonymousAuthenticator::authenticate() const {
  if (mode_ == config::AnonymousMode::kNone) return make_error(Reason::kNoCredentials);
  return Credential{{std::string(kAnonymousDirectory), "anon-" + random_hex(12)}, {}};
}

}  // namespace jotgate::auth
