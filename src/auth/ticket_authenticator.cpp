#include "auth/ticket_authenticator.h"

namespace jotgate::auth {

Result<Credential> TicketAuthenticator::authenticate(std::string_view ticket, UnixSeconds now,
                                                     std::shared_ptr<Pending>* pending) {
  Redemption taken = tickets_.take(ticket, now);
  switch (taken.status) {
    case Redemption::Status::kRedeemed:
      return Credential{std::move(taken.grant.user), std::move(taken.grant.attributes)};
    case Redemption::Status::kInvalid: return make_error(Reason::kTicketInvalid);
    case Redemption::Status::kPending:
      if (pending != nullptr) {
        *pending = std::move(taken.pending);
        return make_error(Reason::kStorePending);
      }
      break;
    case Redemption::Status::kUnavailable: break;
  }
  return make_error(Reason::kSessionStoreUnavailable);
}

}  // namespace jotgate::auth
