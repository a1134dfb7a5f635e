// HeaderAuthenticator: auth.method header. A fronting SSO names the user in a header; it is
// believed only on listeners marked trusted, since anyone can send a header to the others. The
// directory comes from a constant, a second header, or the value itself ("DIRECTORY\id").
//   HeaderAuthenticator sso(vp.auth.header);
//   auto proven = sso.authenticate(request);  // kNoCredentials: no user header, look further
//   if (!proven) refuse(proven.error().reason);   // HEADER_UNTRUSTED, IDENTITY_INVALID
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/credential.h"
#include "auth/request_view.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

class HeaderAuthenticator {
 public:
  // Its words in the audit log (event=sign_in method=header; event=header_rejected).
  static constexpr std::string_view kMethod = "header";
  static constexpr std::string_view kRejectedEvent = "header_rejected";

  explicit HeaderAuthenticator(config::HeaderAuthSettings settings)
      : settings_(std::move(settings)) {}

  // The user the request's header names. kNoCredentials when it has no user header;
  // kHeaderUntrusted on a listener not marked trusted; kIdentityInvalid when the directory is
  // missing or the identity cannot be forwarded.
  Result<Credential> authenticate(const RequestView& request) const;

  // The headers a client must never send upstream itself: the user header and directory header.
  std::vector<std::string> headers() const;

 private:
  const config::HeaderAuthSettings settings_;
};

}  // namespace jotgate::auth
