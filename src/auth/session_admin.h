// SessionAdmin: what the admin API may do with users' sessions, apart from HTTP: issue one-time
// tickets, create, look up and end sessions. GateSessionAdmin implements it over the gates'
// session and ticket stores; the admin listener only parses, validates, audits and calls it.
//   auth::SessionAdmin& admin = gates->admin();
//   auto vp = admin.find_virtual_proxy("sales");                  // by prefix; "~" = root
//   auto ticket = admin.issue_ticket(*vp, {{"ACME", "alice"}, {}, "/sales/app"});
//   // ticket->ticket goes to the browser as ?jotgateTicket=<ticket>
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/gate.h"
#include "base/clock.h"
#include "base/identity.h"
#include "base/result.h"

namespace jotgate::auth {

struct TicketRequest {
  UserIdentity user;
  HeaderList attributes;   // attribute name, value: sent upstream as the header that
                           // auth.forward_attributes (or jwt.forward_claims) names
  std::string target_uri;  // optional: a path under the virtual proxy's prefix, or ""
};

struct IssuedTicket {
  std::string ticket;  // a secret: 256 random bits, base64url; never logged
  UnixSeconds expires_at = 0;
  std::string target_uri;  // as requested ("" when none)
};

struct SessionRecord {
  std::string id;             // the session cookie value: a secret, never logged
  std::string virtual_proxy;  // the prefix
  std::string cookie_name;
  UserIdentity user;
  HeaderList attributes;  // upstream header name, value
  UnixSeconds expires_at = 0;
};

class SessionAdmin {
 public:
  virtual ~SessionAdmin() = default;
  // The virtual proxy with this prefix ("~" names the one at the root); nullopt: none.
  virtual std::optional<std::size_t> find_virtual_proxy(std::string_view prefix) const = 0;
  virtual std::string_view prefix_of(std::size_t virtual_proxy) const = 0;
  // Errors: kIdentityInvalid (unforwardable directory/id), kAccessDenied (no allocation),
  // kBadRequest (target_uri outside the prefix, an attribute not forwarded). Errors about one
  // request field name it in Error::field ("userId", "attributes.X", "targetUri").
  virtual Result<IssuedTicket> issue_ticket(std::size_t virtual_proxy, TicketRequest request) = 0;
  // A session as if the user had signed in; errors as for issue_ticket.
  virtual Result<SessionRecord> create_session(std::size_t virtual_proxy, const UserIdentity& user,
                                               HeaderList attributes) = 0;  // as for tickets
  // Looked up without counting as use; nullopt when unknown or expired.
  virtual std::optional<SessionRecord> find_session(std::size_t virtual_proxy,
                                                    std::string_view id) = 0;
  virtual bool end_session(std::size_t virtual_proxy, std::string_view id) = 0;
  // Every live session of a user, in every virtual proxy.
  virtual std::vector<SessionRecord> user_sessions(const UserIdentity& user) = 0;
  virtual std::size_t end_user_sessions(const UserIdentity& user) = 0;
  // At most `limit` live sessions of one virtual proxy; with `user`, only that user's.
  virtual std::vector<SessionRecord> virtual_proxy_sessions(std::size_t virtual_proxy,
                                                            const std::optional<UserIdentity>& user,
                                                            std::size_t limit) = 0;
};

}  // namespace jotgate::auth
