// TokenProvider: one identity provider whose tokens a virtual proxy accepts (auth.jwt, or one
// entry of auth.jwt.providers): its issuer, the keys that verify its tokens, its claim rules and
// the claims it forwards upstream.
// Its keys come from a file, or from the provider itself (jwks_uri, discovery: RemoteKeys).
//   auto provider = TokenProvider::create(vp.auth.jwt.providers[0], "virtual_proxies[0].auth.jwt");
//   auto jwt = (*provider)->verify(parsed, now);   // or a Reason: SIGNATURE_MISMATCH, ...
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/gate.h"
#include "base/answer.h"
#include "base/clock.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "jose/jwt_verifier.h"

namespace jotgate::jwks {
class KeySource;
}

namespace jotgate::auth {

class RemoteKeys;

class TokenProvider {
 public:
  // Keys as loaded with the configuration (or read from settings.key when the config was built
  // in code), or fetched: a key source of `running` with the same settings (the configuration
  // being replaced: a reload keeps its keys without fetching), else a new one, started here.
  // Errors name `place` ("virtual_proxies[0].auth.jwt").
  static Result<std::unique_ptr<TokenProvider>> create(
      const config::JwtProvider& settings, std::string_view place,
      const std::vector<std::shared_ptr<jwks::KeySource>>& running = {});

  // "" in the single-provider form without an issuer rule.
  const std::string& issuer() const { return settings_.issuer; }
  // Signature, then claims; kKeysUnavailable when it has no usable keys. Fetched keys that lack
  // the token's kid: kKeysRefreshing with `wait` filled (given `wait`, once per
  // jwks_min_refetch), else kKeyNotFound.
  Result<jose::VerifiedJwt> verify(jose::ParsedJws& jws, UnixSeconds now,
                                   KeysWait* wait = nullptr) const;
  // The claims forward_claims names, as upstream headers.
  HeaderList forwarded_claims(const nlohmann::json& claims) const;

  std::size_t keys_loaded() const;
  // Its claim rules, and the keys it verifies with now (null: none usable, keys_problem() says
  // why); fetched keys (jwks_uri, discovery) answer KEY_NOT_FOUND for a kid they lack.
  const jose::VerifierSettings& settings() const { return settings_; }
  std::shared_ptr<const jose::KeySet> usable_keys() const;
  bool keys_fetched() const { return remote_ != nullptr; }
  // Why it has no usable keys, or why its last fetch failed ("" when all is well).
  std::string keys_problem() const;
  // Fetched keys: their source (for a reload to keep) and its figures (for the metrics).
  std::shared_ptr<jwks::KeySource> key_source() const;
  std::optional<KeySourceStatus> key_source_status() const;
  // Whether it would give every token the same verdict and forwarded claims as `other` (the
  // same keys and rules): a reload may then keep what `other` verified.
  bool same_verdicts_as(const TokenProvider& other) const;

 private:
  explicit TokenProvider(const config::JwtProvider& settings);

  const jose::VerifierSettings settings_;
  const std::map<std::string, std::string> forward_claims_;  // claim -> upstream header
  std::optional<jose::JwtVerifier> verifier_;  // none: no usable keys (keys_problem_ says why)
  std::string keys_problem_;
  std::shared_ptr<const RemoteKeys> remote_;  // instead: keys fetched from the provider
};

}  // namespace jotgate::auth
