#include "auth/header_authenticator.h"

#include <optional>

namespace jotgate::auth {

Result<Credential> HeaderAuthenticator::authenticate(const RequestView& request) const {
  const std::optional<std::string_view> value = request.header(settings_.user_header);
  if (!value) return make_error(Reason::kNoCredentials);
  if (!request.trusted_listener()) return make_error(Reason::kHeaderUntrusted);
  std::optional<UserIdentity> user;
  if (!settings_.directory.empty()) {
    user = UserIdentity{settings_.directory, std::string(*value)};
  } else if (!settings_.directory_header.empty()) {
    if (auto directory = request.header(settings_.directory_header)) {
      user = UserIdentity{std::string(*directory), std::string(*value)};
    }
  } else {
    user = config::parse_qualified_user(*value);
  }
  if (!user || !valid_identity(*user)) return make_error(Reason::kIdentityInvalid);
  return Credential{std::move(*user), {}};
}

std::vector<std::string> HeaderAuthenticator::headers() const {
  std::vector<std::string> names{settings_.user_header};
  if (!settings_.directory_header.empty()) names.push_back(settings_.directory_header);
  return names;
}

}  // namespace jotgate::auth
