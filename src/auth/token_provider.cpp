#include "auth/token_provider.h"

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

Result<std::unique_ptr<TokenProvider>> TokenProvider::create(const config::JwtProvider& settings,
                                                             std::string_view place) {
  auto provider = std::unique_ptr<TokenProvider>(new TokenProvider(settings));
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

Result<jose::VerifiedJwt> TokenProvider::verify(jose::ParsedJws& jws, UnixSeconds now) const {
  if (!verifier_) return make_error(Reason::kKeysUnavailable);
  return verifier_->verify(jws, now);
}

bool TokenProvider::same_verdicts_as(const TokenProvider& other) const {
  return verifier_ && other.verifier_ && settings_ == other.settings_ &&
         forward_claims_ == other.forward_claims_ &&
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
