// JwtAuthenticator: auth.method jwt. Proves a bearer token with the keys and rules of its
// identity provider (TokenProvider: the only one, or the one auth.jwt.providers has for the
// token's iss), or finds it in its TokenCache, and returns the user with the claims that the
// provider's forward_claims send upstream. A cached token also names the session it signed in
// before, so a client repeating its token without the cookie rides on that session.
//   auto jwt = JwtAuthenticator::create(vp.auth.jwt, "virtual_proxies[0].auth");
//   auto bearer = (*jwt)->authenticate(token, now);      // or a Reason: TOKEN_EXPIRED, ...
//   (*jwt)->remember_session(*bearer, created.handle, created.cookie_value);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/credential.h"
#include "auth/gate.h"
#include "auth/token_cache.h"
#include "auth/token_check.h"
#include "auth/token_provider.h"
#include "base/clock.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

// What a bearer token proved, and what the token cache knew about it.
struct VerifiedBearer {
  Credential credential;             // the user; attributes: the forwarded claims
  std::uint64_t session_handle = 0;  // the session this token signed in before; 0: none known
  std::string session_cookie;        // and its cookie value (a secret)
  std::optional<TokenCache::Digest> cache_key;  // nullopt: no token cache
  std::string token_id;                         // its jti ("" without one): revocation
  std::optional<UnixSeconds> issued_at;         // its iat
};

// What a revocation is matched on: the token's jti (a string) and iat (a number), as read from
// its claims into `bearer`.
void read_revocation_claims(const nlohmann::json& claims, VerifiedBearer& bearer);

class JwtAuthenticator {
 public:
  // Its words in the audit log (event=sign_in method=jwt; event=token_rejected).
  static constexpr std::string_view kMethod = "jwt";
  static constexpr std::string_view kRejectedEvent = "token_rejected";

  // One TokenProvider per provider; providers with fetched keys keep the key source of
  // `previous` (the authenticator being replaced) that has the same settings. Errors name
  // `place` ("virtual_proxies[0].auth").
  static Result<std::unique_ptr<JwtAuthenticator>> create(
      const config::JwtSettings& settings, std::string_view place,
      const JwtAuthenticator* previous = nullptr);

  // The token's user and forwarded claims; kIdentityInvalid when its identity cannot be
  // forwarded, kIssuerUnknown when no provider has the token's iss, else the verifier's reason.
  // Verified tokens are cached until their exp. `lookup` (if given) says whether the token cache
  // was asked and knew the token. `wait` (if given): a kid that fetched keys lack may ask for one
  // refetch (kKeysRefreshing, `wait` filled; see TokenProvider::verify).
  Result<VerifiedBearer> authenticate(std::string_view token, UnixSeconds now,
                                      TokenCacheLookup* lookup = nullptr, KeysWait* wait = nullptr);
  // The same verdict without the token cache (neither read nor written) and without asking for
  // a refetch of keys (a kid fetched keys lack is KEY_NOT_FOUND): the token workbench's.
  Result<VerifiedBearer> verify_uncached(std::string_view token, UnixSeconds now) const;
  // Each check authenticate() makes, one by one, into `check` (auth/token_check.h): later checks
  // still run after a failure where they mean something.
  void diagnose(std::string_view token, UnixSeconds now, TokenCheck& check) const;
  // Shares `previous`'s verified-token cache when nothing that decided its verdicts changed
  // (keys, algorithms and claim rules, forwarded claims, cache size), so a reload keeps it warm;
  // otherwise this one starts empty.
  void keep_cache_of(const JwtAuthenticator& previous);
  // Keys it verifies with, of every provider, and why a provider has none ("" when all have
  // keys; "<problem>" with one provider, "issuer <iss>: <problem>; ..." with several).
  std::size_t keys_loaded() const;
  std::string keys_problem() const;
  // The providers' fetched keys, for the metrics.
  std::vector<KeySourceStatus> key_sources() const;

  // Records the session a verified token signed in (no-op without a cache).
  void remember_session(const VerifiedBearer& bearer, std::uint64_t session_handle,
                        std::string cookie_value);

  // The sessions that cached tokens with this jti signed in (a revoked token's).
  std::vector<std::uint64_t> sessions_of_token_id(std::string_view token_id) const;

  // A token without exp is verified again after this long.
  static constexpr UnixSeconds kNoExpiryCacheSeconds = 300;

 private:
  explicit JwtAuthenticator(const config::JwtSettings& settings);
  // The provider whose keys and rules verify this token; nullptr: ISSUER_UNKNOWN.
  const TokenProvider* provider_for(const jose::ParsedJws& jws) const;
  // The same by the token's (unverified) iss.
  const TokenProvider* provider_of(const std::optional<std::string>& iss) const;
  // The only provider has no usable keys: KEYS_UNAVAILABLE before the token is read.
  bool no_keys() const;
  // The verification of a token the cache does not know; `wait` as for authenticate().
  // `expires_at` (if given): the token's exp, for the cache.
  Result<VerifiedBearer> prove(std::string_view token, UnixSeconds now, KeysWait* wait,
                               std::optional<UnixSeconds>* expires_at = nullptr) const;

  const bool by_issuer_;  // auth.jwt.providers: the token's iss picks its provider
  std::vector<std::unique_ptr<TokenProvider>> providers_;
  const std::size_t max_token_size_;
  const std::size_t cache_size_;
  std::shared_ptr<TokenCache> tokens_;  // null: token_cache 0; shared across a reload
};

}  // namespace jotgate::auth
