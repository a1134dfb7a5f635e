#include "jose/jwt_verifier.h"

#include <algorithm>
#include <cmath>

namespace jotgate::jose {

namespace {

// The claim as a non-empty string, or nullptr.
const std::string* string_claim(const nlohmann::json& claims, const std::string& name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) return nullptr;
  const auto& value = it->get_ref<const std::string&>();
  return value.empty() ? nullptr : &value;
}

}  // namespace

Result<std::optional<double>> numeric_date(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<double>();
  if (!it->is_number()) {
    return make_error(Reason::kClaimMalformed,
                      std::string("\"") + name + "\" is not a NumericDate");
  }
  return std::optional<double>(it->get<double>());
}

Result<void> check_expiry(std::optional<double> exp, const VerifierSettings& settings,
                          UnixSeconds now) {
  // RFC 7519 4.1.4: the token is valid only before exp.
  if (exp && static_cast<double>(now) >= *exp + static_cast<double>(settings.leeway_seconds)) {
    return make_error(Reason::kTokenExpired);
  }
  return {};
}

Result<void> check_not_before(std::optional<double> nbf, const VerifierSettings& settings,
                              UnixSeconds now) {
  if (nbf && static_cast<double>(now) + static_cast<double>(settings.leeway_seconds) < *nbf) {
    return make_error(Reason::kTokenNotYetValid);
  }
  return {};
}

Result<void> check_issuer(const nlohmann::json& claims, const VerifierSettings& settings) {
  const auto it = claims.find("iss");
  if (it != claims.end() && !it->is_string()) {
    return make_error(Reason::kClaimMalformed, "\"iss\" is not a string");
  }
  if (!settings.issuer.empty() &&
      (it == claims.end() || it->get_ref<const std::string&>() != settings.issuer)) {
    return make_error(Reason::kIssuerMismatch);
  }
  return {};
}

Result<void> check_audience(const nlohmann::json& claims, const VerifierSettings& settings) {
  const auto it = claims.find("aud");
  if (it != claims.end()) {
    const bool well_formed =
        it->is_string() ||
        (it->is_array() &&
         std::all_of(it->begin(), it->end(), [](const auto& v) { return v.is_string(); }));
    if (!well_formed) {
      return make_error(Reason::kClaimMalformed, "\"aud\" is not a string or an array of strings");
    }
  }
  if (!settings.audiences.empty()) {
    bool found = false;
    if (it != claims.end()) {
      const auto expected = [&](const nlohmann::json& value) {
        const auto& text = value.get_ref<const std::string&>();
        return std::find(settings.audiences.begin(), settings.audiences.end(), text) !=
               settings.audiences.end();
      };
      found = it->is_string() ? expected(*it) : std::any_of(it->begin(), it->end(), expected);
    }
    if (!found) return make_error(Reason::kAudienceMismatch);
  }
  return {};
}

Result<void> check_required_claims(const nlohmann::json& claims, const VerifierSettings& settings) {
  for (const auto& name : settings.required_claims) {
    if (!claims.contains(name)) return make_error(Reason::kRequiredClaimMissing, name);
  }
  return {};
}

Result<UserIdentity> identity_claims(const nlohmann::json& claims,
                                     const VerifierSettings& settings) {
  UserIdentity user;
  const auto* id = string_claim(claims, settings.user_id_claim);
  if (!id) return make_error(Reason::kIdentityClaimMissing, settings.user_id_claim);
  user.id = *id;
  if (settings.user_directory) {
    user.directory = *settings.user_directory;
  } else {
    const auto* directory = string_claim(claims, settings.user_directory_claim);
    if (!directory) return make_error(Reason::kIdentityClaimMissing, settings.user_directory_claim);
    user.directory = *directory;
  }
  return user;
}

Result<UserIdentity> validate_claims(const nlohmann::json& claims, const VerifierSettings& settings,
                                     UnixSeconds now) {
  if (!claims.is_object()) return make_error(Reason::kPayloadNotJsonObject);
  // Every NumericDate's type before any of their values.
  auto exp = numeric_date(claims, "exp");
  if (!exp) return exp.error();
  auto nbf = numeric_date(claims, "nbf");
  if (!nbf) return nbf.error();
  if (auto iat = numeric_date(claims, "iat"); !iat) return iat.error();
  if (auto valid = check_expiry(*exp, settings, now); !valid) return valid.error();
  if (auto valid = check_not_before(*nbf, settings, now); !valid) return valid.error();
  if (auto valid = check_issuer(claims, settings); !valid) return valid.error();
  if (auto valid = check_audience(claims, settings); !valid) return valid.error();
  if (auto valid = check_required_claims(claims, settings); !valid) return valid.error();
  return identity_claims(claims, settings);
}

Result<JwtVerifier> JwtVerifier::create(VerifierSettings settings, KeySet keys) {
  if (keys.empty()) return make_error(Reason::kKeyUnsupported, "no verification key");
  if (settings.algorithms.empty())
    return make_error(Reason::kAlgNotAllowed, "no algorithm allowed");
  const bool usable = std::any_of(keys.keys().begin(), keys.keys().end(), [&](const Key& key) {
    return std::any_of(settings.algorithms.begin(), settings.algorithms.end(),
                       [&](Algorithm alg) { return key.fits(alg); });
  });
  if (!usable) {
    return make_error(Reason::kKeyUnsupported, "no key fits any of the allowed algorithms");
  }
  return JwtVerifier(std::move(settings), std::move(keys));
}

Result<VerifiedJwt> JwtVerifier::verify(std::string_view token, UnixSeconds now) const {
  auto jws = parse_compact(token, settings_.max_token_size);
  if (!jws) return jws.error();
  return verify(*jws, now);
}

Result<VerifiedJwt> JwtVerifier::verify(ParsedJws& jws, UnixSeconds now) const {
  // The signature first: nothing in the payload is trusted before it is proven.
  if (auto signed_ok = verify_signature(jws, keys_, settings_.algorithms); !signed_ok) {
    return signed_ok.error();
  }
  auto claims = parse_json_object(jws.payload, Reason::kPayloadNotJsonObject);
  if (!claims) {
    Error error = claims.error();
    if (error.reason == Reason::kDuplicateMember) error.detail = "payload";
    return error;
  }
  auto user = validate_claims(*claims, settings_, now);
  if (!user) return user.error();

  VerifiedJwt jwt;
  if (const auto it = claims->find("exp"); it != claims->end()) {
    // Clamp before converting: a far-future exp must not overflow the integer.
    const double exp = std::clamp(std::floor(it->get<double>()), -9.0e18, 9.0e18);
    jwt.expires_at_ = static_cast<UnixSeconds>(exp);
  }
  jwt.header_ = std::move(jws.header);
  jwt.claims_ = std::move(*claims);
  jwt.user_ = std::move(*user);
  return jwt;
}

std::optional<std::string> unverified_issuer(const ParsedJws& jws) {
  auto claims = parse_json_object(jws.payload, Reason::kPayloadNotJsonObject);
  if (!claims) return std::nullopt;
  auto iss = claims->find("iss");
  if (iss == claims->end() || !iss->is_string()) return std::nullopt;
  return iss->get<std::string>();
}

}  // namespace jotgate::jose
