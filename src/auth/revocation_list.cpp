#include "auth/revocation_list.h"

#include <algorithm>

namespace jotgate::auth {

RevocationList::RevocationList(std::vector<access::Revocation> entries)
    : entries_(std::move(entries)) {
  for (const access::Revocation& r : entries_) {
    const Term term{r.revoked_at, r.until};
    if (r.kind == access::Revocation::Kind::kUser) {
      users_[r.user.qualified()].push_back(term);
    } else {
      token_ids_[r.jti].push_back(term);
    }
  }
}

bool RevocationList::refuses(std::string_view jti, std::optional<UnixSeconds> issued_at,
                             const UserIdentity& user, UnixSeconds now) const {
  if (entries_.empty()) return false;
  if (!jti.empty()) {
    if (auto it = token_ids_.find(std::string(jti)); it != token_ids_.end()) {
      if (std::ranges::any_of(it->second, [&](const Term& t) { return t.in_force(now); })) {
        return true;
      }
    }
  }
  if (users_.empty()) return false;
  auto it = users_.find(user.qualified());
  if (it == users_.end()) return false;
  // Seconds are all `iat` tells: a token of the revocation's own second is refused too.
  return std::ranges::any_of(it->second, [&](const Term& t) {
    return t.in_force(now) && (!issued_at || *issued_at <= t.revoked_at);
  });
}

bool RevocationList::has_expired(UnixSeconds now) const {
  return std::ranges::any_of(
      entries_, [&](const access::Revocation& r) { return r.until && *r.until <= now; });
}

}  // namespace jotgate::auth
