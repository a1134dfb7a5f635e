#include "auth/ticket_authenticator.h"

namespace jotgate::auth {

Result<Credential> TicketAuthenticator::authenticate(std::string_view ticket, UnixSeconds now) {
  auto grant = tickets_.redeem(ticket, now);
  if (!grant) return make_error(Reason::kTicketInvalid);
  return Credential{std::move(grant->user), std::move(grant->attributes)};
}

}  // namespace jotgate::auth
