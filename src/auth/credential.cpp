#include "auth/credential.h"

#include <algorithm>

#include "base/text.h"

namespace jotgate::auth {

bool forwardable(std::string_view value) {
  return !value.empty() &&
         std::none_of(value.begin(), value.end(), [](char c) { return is_control(c) || c == ';'; });
}

bool valid_identity(const UserIdentity& user) {
  return forwardable(user.directory) && forwardable(user.id) &&
         user.directory.find('\\') == std::string::npos && user.directory != kAnonymousDirectory;
}

}  // namespace jotgate::auth
