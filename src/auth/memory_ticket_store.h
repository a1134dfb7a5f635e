// MemoryTicketStore: tickets in the gateway's memory, at most `capacity` live (a runaway client
// cannot fill the memory).
//   MemoryTicketStore tickets;
//   auto t = tickets.issue({{"ACME", "alice"}, {}, now + 60}, now);
//   auto grant = tickets.redeem(*t, now);   // the user; a second redeem finds nothing
#pragma once

#include <mutex>
#include <unordered_map>

#include "auth/ticket_store.h"

namespace jotgate::auth {

class MemoryTicketStore final : public TicketStore {
 public:
  explicit MemoryTicketStore(std::size_t capacity = 100'000) : capacity_(capacity) {}

  // An error when `capacity` tickets are live.
  Result<std::string> issue(TicketGrant grant, UnixSeconds now) override;
  Redemption take(std::string_view ticket, UnixSeconds now) override;
  // The grant, once; nullopt when unknown, used or expired.
  std::optional<TicketGrant> redeem(std::string_view ticket, UnixSeconds now);
  void expire(UnixSeconds now) override;
  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, TicketGrant> grants_;  // by ticket_digest
};

}  // namespace jotgate::auth
