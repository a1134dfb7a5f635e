#include "auth/ticket_store.h"

#include <array>

#include "base/random.h"
#include "base/secret.h"
#include "jose/base64url.h"

namespace jotgate::auth {

namespace {

std::string digest_of(std::string_view ticket) {
  const Sha256 digest = sha256(ticket);
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace

std::optional<std::string> TicketStore::issue(TicketGrant grant, UnixSeconds now) {
  std::array<unsigned char, 32> bytes{};
  random_bytes(bytes);
  std::string ticket =
      jose::base64url_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  std::lock_guard lock(mutex_);
  if (grants_.size() >= capacity_) {
    std::erase_if(grants_, [&](const auto& entry) { return entry.second.expires_at <= now; });
    if (grants_.size() >= capacity_) return std::nullopt;
  }
  grants_.emplace(digest_of(ticket), std::move(grant));
  return ticket;
}

std::optional<TicketGrant> TicketStore::redeem(std::string_view ticket, UnixSeconds now) {
  const std::string key = digest_of(ticket);
  std::lock_guard lock(mutex_);
  auto it = grants_.find(key);
  if (it == grants_.end()) return std::nullopt;
  TicketGrant grant = std::move(it->second);
  grants_.erase(it);  // one use, whatever happens next
  if (grant.expires_at <= now) return std::nullopt;
  return grant;
}

void TicketStore::expire(UnixSeconds now) {
  std::lock_guard lock(mutex_);
  std::erase_if(grants_, [&](const auto& entry) { return entry.second.expires_at <= now; });
}

std::size_t TicketStore::size() const {
  std::lock_guard lock(mutex_);
  return grants_.size();
}

}  // namespace jotgate::auth
