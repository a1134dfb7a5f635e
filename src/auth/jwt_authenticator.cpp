#include "auth/jwt_authenticator.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/text.h"
#include "jose/key.h"

namespace jotgate::auth {

namespace {

std::string strip_controls(std::string text) {
  std::erase_if(text, is_control);
  return text;
}

// A claim as a header value: strings as they are, arrays of strings joined by ",", anything
// else as compact JSON.
std::string claim_value(const nlohmann::json& value) {
  if (value.is_string()) return strip_controls(value.get<std::string>());
  if (value.is_array() && std::all_of(value.begin(), value.end(),
                                      [](const nlohmann::json& v) { return v.is_string(); })) {
    std::string joined;
    for (const auto& v : value) joined += (joined.empty() ? "" : ",") + v.get<std::string>();
    return strip_controls(joined);
  }
  return strip_controls(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The error with `place` in front of its message, for start-up to print.
Error at(std::string place, Error error) {
  error.detail = std::move(place) + ": " + error.message();
  return error;
}

}  // namespace

Result<std::unique_ptr<JwtAuthenticator>> JwtAuthenticator::create(
    const config::JwtSettings& settings, std::string_view place) {
  auto authenticator = std::unique_ptr<JwtAuthenticator>(new JwtAuthenticator(settings));
  if (!settings.keys_problem.empty()) {
    authenticator->keys_problem_ = settings.keys_problem;  // a reload could not use the key file
    return authenticator;
  }
  jose::KeySet& keys = authenticator->keys_;
  if (keys.empty()) {  // a config built in code rather than loaded
    auto loaded = jose::load_verification_keys(settings.key);
    if (!loaded) return at(std::string(place) + ".jwt.key", loaded.error());
    keys = std::move(*loaded);
  }
  auto verifier = jose::JwtVerifier::create(settings.verifier, keys);
  if (!verifier) return at(std::string(place) + ".jwt", verifier.error());
  authenticator->verifier_.emplace(std::move(*verifier));
  return authenticator;
}

JwtAuthenticator::JwtAuthenticator(const config::JwtSettings& settings)
    : settings_(settings.verifier),
      keys_(settings.keys),
      forward_claims_(settings.forward_claims),
      cache_size_(settings.token_cache),
      tokens_(cache_size_ > 0 ? std::make_shared<TokenCache>(cache_size_) : nullptr) {}

void JwtAuthenticator::keep_cache_of(const JwtAuthenticator& previous) {
  if (!verifier_ || !previous.verifier_) return;
  if (settings_ == previous.settings_ && keys_.same_as(previous.keys_) &&
      forward_claims_ == previous.forward_claims_ && cache_size_ == previous.cache_size_) {
    tokens_ = previous.tokens_;
  }
}

Result<VerifiedBearer> JwtAuthenticator::authenticate(std::string_view token, UnixSeconds now,
                                                      TokenCacheLookup* lookup) {
  if (!verifier_) return make_error(Reason::kKeysUnavailable);
  VerifiedBearer out;
  if (tokens_) {
    out.cache_key = TokenCache::digest(token);
    auto hit = tokens_->find(*out.cache_key, now);
    if (lookup != nullptr) *lookup = hit ? TokenCacheLookup::kHit : TokenCacheLookup::kMiss;
    if (hit) {
      out.credential = {std::move(hit->user), std::move(hit->attributes)};
      out.session_handle = hit->session_handle;
      out.session_cookie = std::move(hit->session_cookie);
      out.token_id = std::move(hit->token_id);
      out.issued_at = hit->issued_at;
      return out;
    }
  }
  auto jwt = verifier_->verify(token, now);
  if (!jwt) return jwt.error();
  if (!valid_identity(jwt->user())) return make_error(Reason::kIdentityInvalid);
  out.credential = {jwt->user(), forwarded_claims(jwt->claims())};
  // The verifier checked iat's type; jti is only read when it is a string.
  if (auto jti = jwt->claims().find("jti"); jti != jwt->claims().end() && jti->is_string()) {
    out.token_id = jti->get<std::string>();
  }
  if (auto iat = jwt->claims().find("iat"); iat != jwt->claims().end() && iat->is_number()) {
    // Clamped: a far-off value stays far off without overflowing the conversion.
    out.issued_at =
        static_cast<UnixSeconds>(std::floor(std::clamp(iat->get<double>(), -1e15, 1e15)));
  }
  if (tokens_) {
    // Never past exp; a token without exp is re-verified every few minutes.
    const UnixSeconds until = jwt->expires_at().value_or(now + kNoExpiryCacheSeconds);
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
  return out;
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

HeaderList JwtAuthenticator::forwarded_claims(const nlohmann::json& claims) const {
  HeaderList out;
  for (const auto& [claim, header] : forward_claims_) {
    auto it = claims.find(claim);
    if (it == claims.end() || it->is_null()) continue;
    out.emplace_back(header, claim_value(*it));
  }
  return out;
}

}  // namespace jotgate::auth
