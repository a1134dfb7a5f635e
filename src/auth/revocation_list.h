// RevocationList: the revocations in force as one immutable snapshot, what the gate asks about
// every verified token (cached or not). A token is refused when its `jti` is revoked, or when
// its user is revoked and the token was issued (`iat`) at or before that second (a token without
// `iat` counts as issued before). An entry past its `until` refuses nothing.
//   RevocationList list(*store->revocations());
//   if (list.refuses(bearer.token_id, bearer.issued_at, bearer.credential.user, now)) refuse();
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/access_store.h"
#include "base/clock.h"
#include "base/identity.h"

namespace jotgate::auth {

class RevocationList {
 public:
  RevocationList() = default;
  explicit RevocationList(std::vector<access::Revocation> entries);

  bool refuses(std::string_view jti, std::optional<UnixSeconds> issued_at, const UserIdentity& user,
               UnixSeconds now) const;
  // Whether some entry stops being in force at or before `now` (time to prune).
  bool has_expired(UnixSeconds now) const;
  const std::vector<access::Revocation>& entries() const { return entries_; }

 private:
  // In force: now < until (no until: always).
  struct Term {
    UnixSeconds revoked_at = 0;
    std::optional<UnixSeconds> until;
    bool in_force(UnixSeconds now) const { return !until || now < *until; }
  };
  std::vector<access::Revocation> entries_;
  std::unordered_map<std::string, std::vector<Term>> token_ids_;  // jti -> its entries
  std::unordered_map<std::string, std::vector<Term>> users_;      // "DIR\\id" -> its entries
};

}  // namespace jotgate::auth
