#include "auth/jwt_authenticator.h"

#include <algorithm>
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
  jose::KeySet keys = settings.keys;
  if (keys.empty()) {  // a config built in code rather than loaded
    auto loaded = jose::load_verification_keys(settings.key);
    if (!loaded) return at(std::string(place) + ".jwt.key", loaded.error());
    keys = std::move(*loaded);
  }
  auto verifier = jose::JwtVerifier::create(settings.verifier, std::move(keys));
  if (!verifier) return at(std::string(place) + ".jwt", verifier.error());
  return std::unique_ptr<JwtAuthenticator>(
      new JwtAuthenticator(std::move(*verifier), settings.forward_claims, settings.token_cache));
}

JwtAuthenticator::JwtAuthenticator(jose::JwtVerifier verifier,
                                   std::map<std::string, std::string> forward_claims,
                                   std::size_t cache_size)
    : verifier_(std::move(verifier)),
      forward_claims_(std::move(forward_claims)),
      tokens_(cache_size > 0 ? std::make_unique<TokenCache>(cache_size) : nullptr) {}

Result<VerifiedBearer> JwtAuthenticator::authenticate(std::string_view token, UnixSeconds now,
                                                      TokenCacheLookup* lookup) {
  VerifiedBearer out;
  if (tokens_) {
    out.cache_key = TokenCache::digest(token);
    auto hit = tokens_->find(*out.cache_key, now);
    if (lookup != nullptr) *lookup = hit ? TokenCacheLookup::kHit : TokenCacheLookup::kMiss;
    if (hit) {
      out.credential = {std::move(hit->user), std::move(hit->attributes)};
      out.session_handle = hit->session_handle;
      out.session_cookie = std::move(hit->session_cookie);
      return out;
    }
  }
  auto jwt = verifier_.verify(token, now);
  if (!jwt) return jwt.error();
  if (!valid_identity(jwt->user())) return make_error(Reason::kIdentityInvalid);
  out.credential = {jwt->user(), forwarded_claims(jwt->claims())};
  if (tokens_) {
    // Never past exp; a token without exp is re-verified every few minutes.
    const UnixSeconds until = jwt->expires_at().value_or(now + kNoExpiryCacheSeconds);
    if (until > now) {
      tokens_->insert(*out.cache_key,
                      {out.credential.user, out.credential.attributes, until, 0, {}});
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
