// RemoteKeys: a JwtAuthenticator's keys when its identity provider publishes them (jwt.jwks_uri
// or discovery): the jwks::KeySource that fetches them, and a JwtVerifier rebuilt whenever the
// source has new keys. A token whose kid the keys do not know may ask for one refetch and wait
// for it (kKeysRefreshing); asked again without refetching, it is KEY_NOT_FOUND.
//   RemoteKeys remote(settings.verifier, source);   // source already started
//   KeysWait wait;
//   auto jwt = remote.verify(parsed, now, &wait);    // kKeysRefreshing: wait.when_fetched(...)
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/gate.h"
#include "base/clock.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "jose/jws.h"
#include "jose/jwt_verifier.h"
#include "jwks/key_source.h"

namespace jotgate::auth {

class RemoteKeys {
 public:
  RemoteKeys(jose::VerifierSettings settings, std::shared_ptr<jwks::KeySource> source);

  // kKeysUnavailable without usable keys (never fetched, or past jwks_max_stale). A kid the
  // keys do not know: with `wait`, kKeysRefreshing and `wait` filled when a refetch was asked
  // for; otherwise (or when one was fetched less than jwks_min_refetch ago) kKeyNotFound.
  Result<jose::VerifiedJwt> verify(jose::ParsedJws& jws, UnixSeconds now, KeysWait* wait) const;

  std::size_t keys_loaded() const;
  // The keys it verifies with now; null when none is usable (keys_loaded() == 0).
  std::shared_ptr<const jose::KeySet> usable_keys() const;
  std::string problem() const { return source_->current().problem; }
  KeySourceStatus status() const;
  const std::shared_ptr<jwks::KeySource>& source() const { return source_; }

 private:
  // A verifier for one key set of the source (rebuilt when the source has another).
  struct Verifier {
    std::shared_ptr<const jose::KeySet> keys;
    Result<jose::JwtVerifier> verifier;
  };
  std::shared_ptr<const Verifier> verifier_for(std::shared_ptr<const jose::KeySet> keys) const;

  const jose::VerifierSettings settings_;
  const std::shared_ptr<jwks::KeySource> source_;
  mutable std::atomic<std::shared_ptr<const Verifier>> verifier_;
};

// Whether `error`, of verifying `jws` with `keys`, means that the keys lack the token's key: no
// key to try, and a kid they do not know (the provider may have a new key: KEY_NOT_FOUND unless a
// refetch brings it).
bool key_missing(const Error& error, const jose::ParsedJws& jws, const jose::KeySet& keys);

// The key source's settings of a provider with remote keys (issuer: its verifier's).
jwks::SourceSettings source_settings(const config::JwksSettings& jwks, const std::string& issuer);

}  // namespace jotgate::auth
