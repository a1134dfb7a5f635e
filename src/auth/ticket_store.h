// TicketStore: one-time tickets of the admin API. A ticket is 256 random bits (base64url) that
// stands for a user until it is redeemed once or its lifetime ends; an authentication module
// hands it to the browser, which trades it for a session. MemoryTicketStore keeps them in the
// gateway's memory; RedisTicketStore in the Redis server a cluster shares, so a ticket is
// redeemed once in the whole cluster.
//   auto t = tickets.issue({{"ACME", "alice"}, {}, now + 60}, now);  // the secret, or an Error
//   auto r = tickets.take(*t, now);   // kRedeemed with the grant; a second take: kInvalid
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/identity.h"
#include "base/pending.h"
#include "base/result.h"

namespace jotgate::auth {

struct TicketGrant {
  UserIdentity user;
  std::vector<std::pair<std::string, std::string>> attributes;  // upstream header, value
  UnixSeconds expires_at = 0;
};

// What taking a ticket gave. kPending: it is being redeemed in the shared store; wait on
// `pending`, then take it again (the outcome is then known to this node). kUnavailable: the
// shared store cannot be reached.
struct Redemption {
  enum class Status { kRedeemed, kInvalid, kPending, kUnavailable };
  Status status = Status::kInvalid;
  TicketGrant grant;                 // kRedeemed
  std::shared_ptr<Pending> pending;  // kPending
};

class TicketStore {
 public:
  virtual ~TicketStore() = default;
  // The new ticket. May wait for a shared store: from the admin API, never a request thread.
  virtual Result<std::string> issue(TicketGrant grant, UnixSeconds now) = 0;
  // The grant, once: the ticket is gone afterwards (kInvalid: unknown, used or expired).
  virtual Redemption take(std::string_view ticket, UnixSeconds now) = 0;
  // Drops expired tickets (a shared store expires them itself).
  virtual void expire(UnixSeconds now) = 0;
};

// The key a ticket is filed under: its SHA-256, so no table holds the secrets themselves and a
// lookup's timing depends on a digest the client cannot steer.
std::string ticket_digest(std::string_view ticket);

}  // namespace jotgate::auth
