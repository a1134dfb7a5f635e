#include "auth/memory_ticket_store.h"

#include <array>

#include "base/random.h"
#include "base/secret.h"
#include "jose/base64url.h"

namespace jotgate::auth {

std::string ticket_digest(std::string_view ticket) {
  const Sha256 digest = sha256(ticket);
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

Result<std::string> MemoryTicketStore::issue(TicketGrant grant, UnixSeconds now) {
  std::array<unsigned char, 32> bytes{};
  random_bytes(bytes);
  std::string ticket =
      jose::base64url_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  std::lock_guard lock(mutex_);
  if (grants_.size() >= capacity_) {
    std::erase_if(grants_, [&](const auto& entry) { return entry.second.expires_at <= now; });
    if (grants_.size() >= capacity_) {
      return make_error(Reason::kBadRequest, "too many live tickets; try again later");
    }
  }
  grants_.emplace(ticket_digest(ticket), std::move(grant));
  return ticket;
}

std::optional<TicketGrant> MemoryTicketStore::redeem(std::string_view ticket, UnixSeconds now) {
  const std::string key = ticket_digest(ticket);
  std::lock_guard lock(mutex_);
  auto it = grants_.find(key);
  if (it == grants_.end()) return std::nullopt;
  TicketGrant grant = std::move(it->second);
  grants_.erase(it);  // one use, whatever happens next
  if (grant.expires_at <= now) return std::nullopt;
  return grant;
}

Redemption MemoryTicketStore::take(std::string_view ticket, UnixSeconds now) {
  auto grant = redeem(ticket, now);
  if (!grant) return {};
  return {Redemption::Status::kRedeemed, std::move(*grant), nullptr};
}

void MemoryTicketStore::expire(UnixSeconds now) {
  std::lock_guard lock(mutex_);
  std::erase_if(grants_, [&](const auto& entry) { return entry.second.expires_at <= now; });
}

std::size_t MemoryTicketStore::size() const {
  std::lock_guard lock(mutex_);
  return grants_.size();
}

}  // namespace jotgate::auth
