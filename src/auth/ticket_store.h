// TicketStore: one-time tickets of the admin API. A ticket is 256 random bits (base64url) that
// stands for a user until it is redeemed once or its lifetime ends; an authentication module
// hands it to the browser, which trades it for a session.
//   TicketStore tickets;
//   auto t = tickets.issue({{"ACME", "alice"}, {}, now + 60});  // t: the secret, or nullopt
//   auto grant = tickets.redeem(*t, now);   // the user; a second redeem finds nothing
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/identity.h"

namespace jotgate::auth {

struct TicketGrant {
  UserIdentity user;
  std::vector<std::pair<std::string, std::string>> attributes;  // upstream header, value
  UnixSeconds expires_at = 0;
};

class TicketStore {
 public:
  // At most `capacity` live tickets: a runaway client cannot fill the memory.
  explicit TicketStore(std::size_t capacity = 100'000) : capacity_(capacity) {}

  // The new ticket; nullopt when `capacity` tickets are live.
  std::optional<std::string> issue(TicketGrant grant, UnixSeconds now);
  // The grant, once: the ticket is gone afterwards. nullopt when unknown, used or expired.
  std::optional<TicketGrant> redeem(std::string_view ticket, UnixSeconds now);
  // Drops expired tickets.
  void expire(UnixSeconds now);
  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  // Keyed by the SHA-256 of the ticket, so the table never holds the secrets themselves and a
  // lookup's timing depends on a digest the client cannot steer.
  std::unordered_map<std::string, TicketGrant> grants_;
};

}  // namespace jotgate::auth
