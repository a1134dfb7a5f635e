#include "auth/jwt_authenticator.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "jose/jws.h"
#include "jwks/key_source.h"

namespace jotgate::auth {

Result<std::unique_ptr<JwtAuthenticator>> JwtAuthenticator::create(
    const config::JwtSettings& settings, std::string_view place, const JwtAuthenticator* previous) {
  auto authenticator = std::unique_ptr<JwtAuthenticator>(new JwtAuthenticator(settings));
  std::vector<std::shared_ptr<jwks::KeySource>> running;
  if (previous != nullptr) {
    for (const auto& provider : previous->providers_) {
      if (auto source = provider->key_source()) running.push_back(std::move(source));
    }
  }
  for (std::size_t i = 0; i < settings.providers.size(); ++i) {
    const std::string provider_place =
        std::string(place) + ".jwt" +
        (settings.by_issuer ? ".providers[" + std::to_string(i) + "]" : "");
    auto provider = TokenProvider::create(settings.providers[i], provider_place, running);
    if (!provider) return provider.error();
    authenticator->providers_.push_back(std::move(*provider));
  }
  return authenticator;
}

JwtAuthenticator::JwtAuthenticator(const config::JwtSettings& settings)
    : by_issuer_(settings.by_issuer),
      max_token_size_(settings.providers.empty()
                          ? jose::kDefaultMaxTokenSize
                          : settings.providers.front().verifier.max_token_size),
      cache_size_(settings.token_cache),
      tokens_(cache_size_ > 0 ? std::make_shared<TokenCache>(cache_size_) : nullptr) {}

std::size_t JwtAuthenticator::keys_loaded() const {
  std::size_t keys = 0;
  for (const auto& provider : providers_) keys += provider->keys_loaded();
  return keys;
}

std::string JwtAuthenticator::keys_problem() const {
  std::string problems;
  for (const auto& provider : providers_) {
    if (provider->keys_loaded() != 0) continue;
    std::string problem = provider->keys_problem();
    if (by_issuer_) problem = "issuer " + provider->issuer() + ": " + problem;
    problems += (problems.empty() ? "" : "; ") + problem;
  }
  return problems;
}

std::vector<KeySourceStatus> JwtAuthenticator::key_sources() const {
  std::vector<KeySourceStatus> out;
  for (const auto& provider : providers_) {
    if (auto status = provider->key_source_status()) out.push_back(std::move(*status));
  }
  return out;
}

void JwtAuthenticator::keep_cache_of(const JwtAuthenticator& previous) {
  if (by_issuer_ != previous.by_issuer_ || providers_.size() != previous.providers_.size() ||
      cache_size_ != previous.cache_size_) {
    return;
  }
  for (std::size_t i = 0; i < providers_.size(); ++i) {
    if (!providers_[i]->same_verdicts_as(*previous.providers_[i])) return;
  }
  tokens_ = previous.tokens_;
}

const TokenProvider* JwtAuthenticator::provider_for(const jose::ParsedJws& jws) const {
  if (!by_issuer_) return providers_.front().get();
  // Read before the signature is checked, only to choose: the chosen provider's verifier then
  // checks the signature and the iss claim itself against its issuer.
  return provider_of(jose::unverified_issuer(jws));
}

const TokenProvider* JwtAuthenticator::provider_of(const std::optional<std::string>& iss) const {
  if (!by_issuer_) return providers_.front().get();
  if (!iss) return nullptr;
  for (const auto& provider : providers_) {
    if (provider->issuer() == *iss) return provider.get();
  }
  return nullptr;
}

bool JwtAuthenticator::no_keys() const {
  return providers_.size() == 1 && providers_.front()->keys_loaded() == 0;
}

Result<VerifiedBearer> JwtAuthenticator::verify_uncached(std::string_view token,
                                                         UnixSeconds now) const {
  if (no_keys()) return make_error(Reason::kKeysUnavailable);
  return prove(token, now, nullptr);
}

Result<VerifiedBearer> JwtAuthenticator::authenticate(std::string_view token, UnixSeconds now,
                                                      TokenCacheLookup* lookup, KeysWait* wait) {
  if (no_keys()) return make_error(Reason::kKeysUnavailable);
  std::optional<TokenCache::Digest> cache_key;
  if (tokens_) {
    cache_key = TokenCache::digest(token);
    auto hit = tokens_->find(*cache_key, now);
    if (lookup != nullptr) *lookup = hit ? TokenCacheLookup::kHit : TokenCacheLookup::kMiss;
    if (hit) {
      VerifiedBearer out;
      out.cache_key = cache_key;
      out.credential = {std::move(hit->user), std::move(hit->attributes)};
      out.session_handle = hit->session_handle;
      out.session_cookie = std::move(hit->session_cookie);
      out.token_id = std::move(hit->token_id);
      out.issued_at = hit->issued_at;
      return out;
    }
  }
  std::optional<UnixSeconds> expires_at;
  auto proven = prove(token, now, wait, &expires_at);
  if (!proven) return proven;
  VerifiedBearer& out = *proven;
  out.cache_key = cache_key;
  if (tokens_) {
    // Never past exp; a token without exp is re-verified every few minutes.
    const UnixSeconds until = expires_at.value_or(now + kNoExpiryCacheSeconds);
    if (until > now) {
      tokens_->insert(*out.cache_key, {out.credential.user,
                                       out.credential.attributes,
                                       until,
                                       0,
                                       {},
                                       out.token_id,
                                       out.issued_at});
    }
  }
  return proven;
}

Result<VerifiedBearer> JwtAuthenticator::prove(std::string_view token, UnixSeconds now,
                                               KeysWait* wait,
                                               std::optional<UnixSeconds>* expires_at) const {
  auto jws = jose::parse_compact(token, max_token_size_);
  if (!jws) return jws.error();
  const TokenProvider* provider = provider_for(*jws);
  if (provider == nullptr) return make_error(Reason::kIssuerUnknown);
  auto jwt = provider->verify(*jws, now, wait);
  if (!jwt) return jwt.error();
  if (!valid_identity(jwt->user())) return make_error(Reason::kIdentityInvalid);
  VerifiedBearer out;
  out.credential = {jwt->user(), provider->forwarded_claims(jwt->claims())};
  read_revocation_claims(jwt->claims(), out);
  if (expires_at != nullptr) *expires_at = jwt->expires_at();
  return out;
}

void read_revocation_claims(const nlohmann::json& claims, VerifiedBearer& bearer) {
  // The verifier checked iat's type; jti is only read when it is a string.
  if (auto jti = claims.find("jti"); jti != claims.end() && jti->is_string()) {
    bearer.token_id = jti->get<std::string>();
  }
  if (auto iat = claims.find("iat"); iat != claims.end() && iat->is_number()) {
    // Clamped: a far-off value stays far off without overflowing the conversion.
    bearer.issued_at =
        static_cast<UnixSeconds>(std::floor(std::clamp(iat->get<double>(), -1e15, 1e15)));
  }
}

void JwtAuthenticator::remember_session(const VerifiedBearer& bearer, std::uint64_t session_handle,
                                        std::string cookie_value) {
  if (tokens_ && bearer.cache_key) {
    tokens_->set_session(*bearer.cache_key, session_handle, std::move(cookie_value));
  }
}

std::vector<std::uint64_t> JwtAuthenticator::sessions_of_token_id(std::string_view token_id) const {
  if (!tokens_ || token_id.empty()) return {};
  return tokens_->sessions_of_token_id(token_id);
}

}  // namespace jotgate::auth
