// JwtAuthenticator: auth.method jwt. Proves a bearer token with the virtual proxy's key set
// (jose::JwtVerifier), or finds it in its TokenCache, and returns the user with the claims that
// jwt.forward_claims sends upstream. A cached token also names the session it signed in before,
// so a client repeating its token without the cookie rides on that session.
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

#include "auth/credential.h"
#include "auth/gate.h"
#include "auth/token_cache.h"
#include "base/clock.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "jose/jwt_verifier.h"

namespace jotgate::auth {

class RemoteKeys;

// What a bearer token proved, and what the token cache knew about it.
struct VerifiedBearer {
  Credential credential;             // the user; attributes: the forwarded claims
  std::uint64_t session_handle = 0;  // the session this token signed in before; 0: none known
  std::string session_cookie;        // and its cookie value (a secret)
  std::optional<TokenCache::Digest> cache_key;  // nullopt: no token cache
};

class JwtAuthenticator {
 public:
  // Its words in the audit log (event=sign_in method=jwt; event=token_rejected).
  static constexpr std::string_view kMethod = "jwt";
  static constexpr std::string_view kRejectedEvent = "token_rejected";

  // Keys as loaded with the configuration (or read from settings.key when the config was built
  // in code), or fetched from the identity provider (jwt.jwks_uri, discovery: a key source
  // started here, or `previous`'s when its settings are the same, so a reload keeps its keys
  // without fetching). Errors name `place` ("virtual_proxies[0].auth").
  static Result<std::unique_ptr<JwtAuthenticator>> create(
      const config::JwtSettings& settings, std::string_view place,
      const JwtAuthenticator* previous = nullptr);

  // The token's user and forwarded claims; kIdentityInvalid when its identity cannot be
  // forwarded, else the verifier's reason. Verified tokens are cached until their exp.
  // `lookup` (if given) says whether the token cache was asked and knew the token. With keys
  // from the identity provider, a kid they do not know is kKeysRefreshing with `wait` filled
  // when a refetch was asked for and `wait` is given, else kKeyNotFound.
  Result<VerifiedBearer> authenticate(std::string_view token, UnixSeconds now,
                                      TokenCacheLookup* lookup = nullptr, KeysWait* wait = nullptr);
  // Shares `previous`'s verified-token cache when nothing that decided its verdicts changed
  // (keys, algorithms and claim rules, forwarded claims, cache size), so a reload keeps it warm;
  // otherwise this one starts empty.
  void keep_cache_of(const JwtAuthenticator& previous);
  // Keys it verifies with (0 when a reload could not use the key file), and why there are none.
  std::size_t keys_loaded() const;
  std::string keys_problem() const;
  // The identity provider's key source, for the metrics (nullopt: keys from a file).
  std::optional<KeySourceStatus> key_source() const;

  // Records the session a verified token signed in (no-op without a cache).
  void remember_session(const VerifiedBearer& bearer, std::uint64_t session_handle,
                        std::string cookie_value);

  // A token without exp is verified again after this long.
  static constexpr UnixSeconds kNoExpiryCacheSeconds = 300;

 private:
  explicit JwtAuthenticator(const config::JwtSettings& settings);
  HeaderList forwarded_claims(const nlohmann::json& claims) const;

  const jose::VerifierSettings settings_;
  jose::KeySet keys_;
  std::optional<jose::JwtVerifier> verifier_;  // none: no usable keys (keys_problem_ says why)
  std::shared_ptr<RemoteKeys> remote_;         // instead: keys from the identity provider
  std::string keys_problem_;
  const std::map<std::string, std::string> forward_claims_;  // claim -> upstream header
  const std::size_t cache_size_;
  std::shared_ptr<TokenCache> tokens_;  // null: token_cache 0; shared across a reload
};

}  // namespace jotgate::auth
