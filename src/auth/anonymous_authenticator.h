// AnonymousAuthenticator: auth.anonymous. With "allow", a request without credentials gets a
// generated user of the ANONYMOUS directory; with "always", every request does; with "none",
// nobody is anonymous. Anonymous users need no access allocation.
//   AnonymousAuthenticator anonymous(config::AnonymousMode::kAllow);
//   auto proven = anonymous.authenticate();   // ANONYMOUS\anon-<24 hex digits>
//   if (anonymous.admits(user)) ...           // false for anonymous users once mode is none
#pragma once

#include <string_view>

#include "auth/credential.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

class AnonymousAuthenticator {
 public:
  // Its word in the audit log (event=sign_in method=anonymous).
  static constexpr std::string_view kMethod = "anonymous";

  explicit AnonymousAuthenticator(config::AnonymousMode mode) : mode_(mode) {}

  // Every request is anonymous (mode always): credentials are not looked at.
  bool always() const { return mode_ == config::AnonymousMode::kAlways; }
  // A new anonymous user, unpredictable; kNoCredentials when the mode is none.
  Result<Credential> authenticate() const;
  // Whether an anonymous user may pass: while the mode is not none.
  bool admits_anonymous() const { return mode_ != config::AnonymousMode::kNone; }

  static bool is_anonymous(const UserIdentity& user) {
    return user.directory == kAnonymousDirectory;
  }

 private:
  const config::AnonymousMode mode_;
};

}  // namespace jotgate::auth
