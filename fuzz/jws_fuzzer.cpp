// The JWS parser and verifier on arbitrary tokens: parse_compact, verify_signature against the
// keys of the RFC vectors (so the seed tokens verify and mutations reach the claims), claim
// validation on the payload whatever its signature, and JwtVerifier::verify end to end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jose/jws.h"
#include "jose/jwt_verifier.h"
#include "jose/key.h"

namespace {

using namespace jotgate;
using namespace jotgate::jose;

nlohmann::json read_vector(const std::string& relative) {
  std::ifstream in(std::string(JOTGATE_TEST_DATA) + "/" + relative, std::ios::binary);
  if (!in) {
    std::cerr << "jws_fuzzer: cannot read " << relative << "\n";
    std::abort();
  }
  return nlohmann::json::parse(in);
}

// The keys of RFC 7515 A.1-A.3, RFC 8037 A.4 and RFC 7520 section 4 (those have a kid).
KeySet vector_keys() {
  std::vector<Key> keys;
  const std::vector<std::pair<std::string, std::vector<std::string>>> sources = {
      {"rfc7515/a1_hs256.json", {"key"}},
      {"rfc7515/a2_rs256.json", {"key"}},
      {"rfc7515/a3_es256.json", {"key"}},
      {"rfc8037/a4_ed25519.json", {"key"}},
      {"rfc7520/jws_4_1.rsa_v15_signature.json", {"input", "key"}},
      {"rfc7520/jws_4_3.ecdsa_signature.json", {"input", "key"}},
      {"rfc7520/jws_4_4.hmac-sha2_integrity_protection.json", {"input", "key"}},
      {"rfc7520/curve25519_jws.json", {"input", "key"}},
  };
  for (const auto& [file, where] : sources) {
    nlohmann::json jwk = read_vector(file);
    for (const auto& member : where) jwk = jwk.at(member);
    if (jwk.at("kty") == "oct") {
      keys.push_back(*parse_signing_key(jwk.dump()));
    } else {
      auto parsed = parse_verification_keys(jwk.dump());
      if (!parsed) {
        std::cerr << "jws_fuzzer: key of " << file << ": " << parsed.error().describe() << "\n";
        std::abort();
      }
      keys.insert(keys.end(), parsed->keys().begin(), parsed->keys().end());
    }
  }
  return KeySet(std::move(keys));
}

struct Fixture {
  KeySet keys = vector_keys();
  std::vector<Algorithm> all = {Algorithm::kRS256, Algorithm::kRS384,   Algorithm::kRS512,
                                Algorithm::kPS256, Algorithm::kPS384,   Algorithm::kPS512,
                                Algorithm::kES256, Algorithm::kES384,   Algorithm::kES512,
                                Algorithm::kEdDSA, Algorithm::kEd25519, Algorithm::kHS256,
                                Algorithm::kHS384, Algorithm::kHS512};
  // The RFC 7515 payloads are JWTs of "joe" expiring at 1300819380; a required claim, an
  // audience and a user from claims make every claim check run.
  VerifierSettings settings = [this] {
    VerifierSettings s;
    s.algorithms = all;
    s.issuer = "joe";
    s.user_id_claim = "iss";
    s.user_directory = "RFC";
    s.required_claims = {"exp"};
    return s;
  }();
  VerifierSettings strict = [this] {
    VerifierSettings s;
    s.algorithms = all;
    s.audiences = {"jotgate"};
    s.leeway_seconds = 0;
    s.max_token_size = 2048;
    return s;
  }();
  JwtVerifier verifier = *JwtVerifier::create(settings, keys);
  JwtVerifier strict_verifier = *JwtVerifier::create(strict, keys);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture;
  const std::string token(reinterpret_cast<const char*>(data), size);
  constexpr UnixSeconds kNow = 1300819380 - 100;

  if (auto parsed = parse_compact(token)) {
    (void)verify_signature(*parsed, fixture.keys, fixture.all);
    // Claims as the verifier would see them after a good signature.
    if (auto claims = parse_json_object(parsed->payload, Reason::kTokenMalformed)) {
      (void)validate_claims(*claims, fixture.settings, kNow);
      (void)validate_claims(*claims, fixture.strict, kNow);
    }
  }
  (void)fixture.verifier.verify(token, kNow);
  (void)fixture.strict_verifier.verify(token, kNow);
  return 0;
}
