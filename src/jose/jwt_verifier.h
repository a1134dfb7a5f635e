// JwtVerifier: a JWS as a credential. Built once from settings and keys; verify() checks shape,
// signature, then claims (never trusting a claim before the signature), and returns a
// VerifiedJwt that nothing else can construct.
//   auto verifier = JwtVerifier::create(settings, keys);
//   auto jwt = verifier->verify(token, clock.now_seconds());
//   if (jwt) use(jwt->user()); else answer_401(jwt.error());
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/identity.h"
#include "base/result.h"
#include "jose/algorithm.h"
#include "jose/jws.h"
#include "jose/key.h"

namespace jotgate::jose {

struct VerifierSettings {
  std::vector<Algorithm> algorithms = default_algorithms();
  std::string issuer;                  // checked when not empty
  std::vector<std::string> audiences;  // when not empty, "aud" must contain one of them
  std::int64_t leeway_seconds = 60;
  std::vector<std::string> required_claims;
  std::string user_id_claim = "userId";
  std::string user_directory_claim = "userDirectory";
  std::optional<std::string> user_directory;  // a constant directory instead of the claim
  std::size_t max_token_size = kDefaultMaxTokenSize;
  bool operator==(const VerifierSettings&) const = default;
};

class VerifiedJwt {
 public:
  const nlohmann::json& header() const { return header_; }
  const nlohmann::json& claims() const { return claims_; }
  const UserIdentity& user() const { return user_; }
  // The "exp" claim, when present; caches never keep a token past it.
  std::optional<UnixSeconds> expires_at() const { return expires_at_; }

 private:
  friend class JwtVerifier;
  VerifiedJwt() = default;
  nlohmann::json header_;
  nlohmann::json claims_;
  UserIdentity user_;
  std::optional<UnixSeconds> expires_at_;
};

class JwtVerifier {
 public:
  // Fails (kKeyUnsupported/kAlgNotAllowed) when no key can serve any allowed algorithm.
  static Result<JwtVerifier> create(VerifierSettings settings, KeySet keys);

  Result<VerifiedJwt> verify(std::string_view token, UnixSeconds now) const;
  // The same for a token already parsed (its header and payload are moved out).
  Result<VerifiedJwt> verify(ParsedJws& jws, UnixSeconds now) const;

  const VerifierSettings& settings() const { return settings_; }
  const KeySet& keys() const { return keys_; }

 private:
  JwtVerifier(VerifierSettings settings, KeySet keys)
      : settings_(std::move(settings)), keys_(std::move(keys)) {}
  VerifierSettings settings_;
  KeySet keys_;
};

// The "iss" claim of a token whose signature is NOT checked: only to choose which provider's keys
// and rules verify it. nullopt when the payload has no string iss.
std::optional<std::string> unverified_issuer(const ParsedJws& jws);

// Claim checks alone, on an already verified payload (exposed for tests and the CLI).
Result<UserIdentity> validate_claims(const nlohmann::json& claims, const VerifierSettings& settings,
                                     UnixSeconds now);

// The steps of validate_claims, in its order, for a diagnosis that shows each one (the token
// workbench): the type of exp, nbf and iat (kClaimMalformed; nullopt when absent), exp and nbf
// against `now` with the leeway, iss and aud (type, then the expected value), required claims,
// and the user (kIdentityClaimMissing naming the claim).
Result<std::optional<double>> numeric_date(const nlohmann::json& claims, const char* name);
Result<void> check_expiry(std::optional<double> exp, const VerifierSettings& settings,
                          UnixSeconds now);
Result<void> check_not_before(std::optional<double> nbf, const VerifierSettings& settings,
                              UnixSeconds now);
Result<void> check_issuer(const nlohmann::json& claims, const VerifierSettings& settings);
Result<void> check_audience(const nlohmann::json& claims, const VerifierSettings& settings);
Result<void> check_required_claims(const nlohmann::json& claims, const VerifierSettings& settings);
Result<UserIdentity> identity_claims(const nlohmann::json& claims,
                                     const VerifierSettings& settings);

}  // namespace jotgate::jose
