// TokenCache: tokens that already passed verification, so a repeated bearer token skips the
// signature check (the bulk of a token's cost) and rides on the session it signed in. Keyed by
// the SHA-256 of the token (the cache holds no token), bounded (oldest entries leave first), and
// an entry is never used at or after the token's `exp`. One cache per virtual proxy, built with
// its verifier: new keys or settings mean a new, empty cache.
//   TokenCache cache(10000);
//   auto key = TokenCache::digest(token);
//   if (auto hit = cache.find(key, now)) use(hit->user); else cache.insert(key, {user, ...});
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/identity.h"
#include "base/secret.h"

namespace jotgate::auth {

class TokenCache {
 public:
  using Digest = Sha256;  // of the token
  using Attributes = std::vector<std::pair<std::string, std::string>>;

  struct Entry {
    UserIdentity user;
    Attributes attributes;                 // forwarded claims, as the session keeps them
    UnixSeconds expires_at = 0;            // the token's exp (or a short default without one)
    std::uint64_t session_handle = 0;      // the session this token signed in, 0 = none yet
    std::string session_cookie;            // its cookie value (a secret, like the store's ids)
    std::string token_id;                  // the token's jti ("" without one), for revocation
    std::optional<UnixSeconds> issued_at;  // its iat
  };

  explicit TokenCache(std::size_t capacity);
  ~TokenCache();
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  static Digest digest(std::string_view token);

  // A copy of the entry, when present and now < expires_at.
  std::optional<Entry> find(const Digest& key, UnixSeconds now) const;
  // Adds or replaces; the oldest entry of a full shard leaves.
  void insert(const Digest& key, Entry entry);
  // Records the session a cached token signed in.
  void set_session(const Digest& key, std::uint64_t session_handle, std::string cookie_value);
  // The sessions signed in by cached tokens with this jti (a scan: revocations are rare).
  std::vector<std::uint64_t> sessions_of_token_id(std::string_view token_id) const;
  std::size_t size() const;

 private:
  struct Shard;
  std::size_t per_shard_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace jotgate::auth
