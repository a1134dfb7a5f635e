// Credential: who an authenticator proved the client to be, and the attributes that go upstream
// with them. Every authenticator (jwt, header, ticket, anonymous) returns one or a Reason; the
// gate turns it into a session. (credentials.h reads what a client presents; this is what was
// proven.) The identity rules every path shares live here too.
//   Result<Credential> proven = header_authenticator.authenticate(request);
//   if (!proven) refuse(proven.error().reason); else sign_in(proven->user, proven->attributes);
#pragma once

#include <string_view>

#include "base/answer.h"
#include "base/identity.h"

namespace jotgate::auth {

struct Credential {
  UserIdentity user;
  HeaderList attributes;  // upstream header name, value (forwarded claims, ticket attributes)
};

// Anonymous users (auth.anonymous) live in this directory; no credential may claim it, so an
// anonymous session can never pass for a signed-in user or the reverse.
inline constexpr std::string_view kAnonymousDirectory = "ANONYMOUS";

// A value that can be written into an upstream header field: not empty, no control
// characters, no ';' (the identity header separates its parts with it).
bool forwardable(std::string_view value);

// An identity a credential may name: directory and id forwardable, no '\' in the directory
// (it separates "DIRECTORY\id"), and never the anonymous directory.
bool valid_identity(const UserIdentity& user);

}  // namespace jotgate::auth
