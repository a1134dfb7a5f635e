#include "auth/jwt_authenticator.h"

#include <algorithm>
#include <utility>

#include "auth/remote_keys.h"
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
    const config::JwtSettings& settings, std::string_view place, const JwtAuthenticator* previous) {
  auto authenticator = std::unique_ptr<JwtAuthenticator>(new JwtAuthenticator(settings));
  if (settings.jwks.remote()) {
    // Staleness is wall-clock time since the keys were fetched (the saved file's too).
    static const SystemClock clock;
    jwks::SourceSettings wanted = source_settings(settings);
    std::shared_ptr<jwks::KeySource> source;
    if (previous != nullptr && previous->remote_ &&
        previous->remote_->source()->settings() == wanted) {
      source = previous->remote_->source();
    } else {
      source = jwks::KeySource::create(std::move(wanted), clock);
    }
    source->start();
    authenticator->remote_ = std::make_shared<RemoteKeys>(settings.verifier, std::move(source));
    return authenticator;
  }
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

std::size_t JwtAuthenticator::keys_loaded() const {
  if (remote_) return remote_->keys_loaded();
  return verifier_ ? keys_.keys().size() : 0;
}

std::string JwtAuthenticator::keys_problem() const {
  return remote_ ? remote_->problem() : keys_problem_;
}

std::optional<KeySourceStatus> JwtAuthenticator::key_source() const {
  if (!remote_) return std::nullopt;
  return remote_->status();
}

void JwtAuthenticator::keep_cache_of(const JwtAuthenticator& previous) {
  // The same keys: the same file's, or the same (shared) key source.
  const bool same_keys = remote_
                             ? previous.remote_ && previous.remote_->source() == remote_->source()
                             : verifier_ && previous.verifier_ && keys_.same_as(previous.keys_);
  if (!same_keys) return;
  if (settings_ == previous.settings_ && forward_claims_ == previous.forward_claims_ &&
      cache_size_ == previous.cache_size_) {
    tokens_ = previous.tokens_;
  }
}

Result<VerifiedBearer> JwtAuthenticator::authenticate(std::string_view token, UnixSeconds now,
                                                      TokenCacheLookup* lookup, KeysWait* wait) {
  if (!verifier_ && !remote_) return make_error(Reason::kKeysUnavailable);
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
  auto jwt = remote_ ? remote_->verify(token, now, wait) : verifier_->verify(token, now);
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
