#include "auth/credential.h"

#include <algorithm>

namespace jotgate::auth {

bool forwardable(std::string_view value) {
  return !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == ';';
  });
}

bool valid_identity(const UserIdentity& user) {
  return forwardable(user.directory) && forwardable(user.id) &&
         user.directory.find('\\') == std::string::npos && user.directory != kAnonymousDirectory;
}

}  // namespace jotgate::auth
