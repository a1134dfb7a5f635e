// TicketAuthenticator: the jotgateTicket parameter. Trades a one-time ticket that the admin API
// issued (TicketStore) for the user and attributes it stands for, once, within its lifetime.
//   TicketAuthenticator tickets(store);
//   auto proven = tickets.authenticate(ticket, now);  // kTicketInvalid: unknown, used, expired
#pragma once

#include <memory>
#include <string_view>

#include "auth/credential.h"
#include "auth/ticket_store.h"
#include "base/clock.h"
#include "base/result.h"

namespace jotgate::auth {

class TicketAuthenticator {
 public:
  // Its words in the audit log (event=sign_in method=ticket; event=ticket_rejected).
  static constexpr std::string_view kMethod = "ticket";
  static constexpr std::string_view kRejectedEvent = "ticket_rejected";

  explicit TicketAuthenticator(TicketStore& tickets) : tickets_(tickets) {}

  // With a shared store, taking the ticket may need a round trip: then, when `pending` is given,
  // it is set and the error is kStorePending (wait on it, then authenticate again); without,
  // or when the store cannot be reached, kSessionStoreUnavailable.
  Result<Credential> authenticate(std::string_view ticket, UnixSeconds now,
                                  std::shared_ptr<Pending>* pending = nullptr);

 private:
  TicketStore& tickets_;
};

}  // namespace jotgate::auth
