#include "auth/token_provider.h"

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

Result<std::unique_ptr<TokenProvider>> TokenProvider::create(
    const config::JwtProvider& settings, std::string_view place,
    const std::vector<std::shared_ptr<jwks::KeySource>>& running) {
  auto provider = std::unique_ptr<TokenProvider>(new TokenProvider(settings));
  if (settings.jwks) {
    // Staleness is wall-clock time since the keys were fetched (the saved document's too).
    static const SystemClock clock;
    jwks::SourceSettings wanted = source_settings(*settings.jwks, settings.verifier.issuer);
    auto same = std::find_if(running.begin(), running.end(),
                             [&](const auto& source) { return source->settings() == wanted; });
    std::shared_ptr<jwks::KeySource> source =
        same != running.end() ? *same : jwks::KeySource::create(std::move(wanted), clock);
    source->start();
    provider->remote_ = std::make_shared<const RemoteKeys>(settings.verifier, std::move(source));
    return provider;
  }
  if (!settings.keys_problem.empty()) {
    provider->keys_problem_ = settings.keys_problem;  // a reload could not use the key file
    return provider;
  }
  jose::KeySet keys = settings.keys;
  if (keys.empty()) {  // a config built in code rather than loaded
    auto loaded = jose::load_verification_keys(settings.key);
    if (!loaded) return at(std::string(place) + ".key", loaded.error());
    keys = std::move(*loaded);
  }
  auto verifier = jose::JwtVerifier::create(settings.verifier, std::move(keys));
  if (!verifier) return at(std::string(place), verifier.error());
  provider->verifier_.emplace(std::move(*verifier));
  return provider;
}

TokenProvider::TokenProvider(const config::JwtProvider& settings)
    : settings_(settings.verifier), forward_claims_(settings.forward_claims) {}

Result<jose::VerifiedJwt> TokenProvider::verify(jose::ParsedJws& jws, UnixSeconds now,
                                                KeysWait* wait) const {
  if (remote_) return remote_->verify(jws, now, wait);
  if (!verifier_) return make_error(Reason::kKeysUnavailable);
  return verifier_->verify(jws, now);
}

std::size_t TokenProvider::keys_loaded() const {
  if (remote_) return remote_->keys_loaded();
  return verifier_ ? verifier_->keys().keys().size() : 0;
}

std::shared_ptr<const jose::KeySet> TokenProvider::usable_keys() const {
  if (remote_) return remote_->usable_keys();
  if (!verifier_) return nullptr;
  // The provider outlives its callers' use (they hold the gates); nothing to own here.
  return std::shared_ptr<const jose::KeySet>(std::shared_ptr<const jose::KeySet>(),
                                             &verifier_->keys());
}

std::string TokenProvider::keys_problem() const {
  return remote_ ? remote_->problem() : keys_problem_;
}

std::shared_ptr<jwks::KeySource> TokenProvider::key_source() const {
  return remote_ ? remote_->source() : nullptr;
}

std::optional<KeySourceStatus> TokenProvider::key_source_status() const {
  if (!remote_) return std::nullopt;
  return remote_->status();
}

bool TokenProvider::same_verdicts_as(const TokenProvider& other) const {
  if (settings_ != other.settings_ || forward_claims_ != other.forward_claims_) return false;
  // The same keys: the same file's, or the same (shared) key source.
  if (remote_) return other.remote_ && remote_->source() == other.remote_->source();
  return verifier_ && other.verifier_ && !other.remote_ &&
         verifier_->keys().same_as(other.verifier_->keys());
}

HeaderList TokenProvider::forwarded_claims(const nlohmann::json& claims) const {
  HeaderList out;
  for (const auto& [claim, header] : forward_claims_) {
    auto it = claims.find(claim);
    if (it == claims.end() || it->is_null()) continue;
    out.emplace_back(header, claim_value(*it));
  }
  return out;
}

}  // namespace jotgate::auth
