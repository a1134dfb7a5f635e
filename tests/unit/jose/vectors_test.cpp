// Published vectors: RFC 7515 appendix A, RFC 8037 appendix A, RFC 7520 section 4.
#include <gtest/gtest.h>

#include "jose/jwt_verifier.h"
#include "test_support.h"

namespace jotgate::jose {
namespace {

using testing::read_json;

struct Vector {
  const char* file;
  Algorithm alg;
  bool deterministic;
};

// The compact token's header and payload as the signer saw them.
std::pair<std::string, std::string> decoded_parts(const std::string& compact) {
  const auto first = compact.find('.');
  const auto second = compact.find('.', first + 1);
  return {*base64url_decode(compact.substr(0, first)),
          *base64url_decode(compact.substr(first + 1, second - first - 1))};
}

void check_vector(const nlohmann::json& key_jwk, const std::string& compact, Algorithm alg,
                  bool deterministic) {
  auto signing = parse_signing_key(key_jwk.dump());
  ASSERT_TRUE(signing) << signing.error().describe();
  // Verification uses the public part only (HS*: the secret itself).
  KeySet keys({*signing});
  if (signing->type() != KeyType::kOct) {
    auto public_keys = parse_verification_keys(key_jwk.dump());
    ASSERT_TRUE(public_keys) << public_keys.error().describe();
    keys = *public_keys;
  }
  auto parsed = parse_compact(compact);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed->alg, alg);
  auto verified = verify_signature(*parsed, keys, {alg});
  EXPECT_TRUE(verified) << verified.error().describe();

  if (deterministic) {
    const auto [header, payload] = decoded_parts(compact);
    auto signed_again = sign_compact(header, payload, *signing);
    ASSERT_TRUE(signed_again) << signed_again.error().describe();
    EXPECT_EQ(*signed_again, compact);
  }
  // And a flipped last signature byte no longer verifies.
  std::string tampered = parsed->signature;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  ParsedJws copy = *parsed;
  copy.signature = tampered;
  EXPECT_FALSE(verify_signature(copy, keys, {alg}));
}

TEST(Rfc7515, AppendixA) {
  for (const Vector& v : {Vector{"rfc7515/a1_hs256.json", Algorithm::kHS256, true},
                          Vector{"rfc7515/a2_rs256.json", Algorithm::kRS256, true},
                          Vector{"rfc7515/a3_es256.json", Algorithm::kES256, false}}) {
    SCOPED_TRACE(v.file);
    const auto vector = read_json(v.file);
    check_vector(vector["key"], vector["compact"], v.alg, v.deterministic);
  }
}

TEST(Rfc7515, AppendixAAsJwtsAtTheirTime) {
  // The A.1-A.3 payloads are JWTs for "joe" that expired at 1300819380.
  VerifierSettings settings;
  settings.algorithms = {Algorithm::kES256};
  settings.user_id_claim = "iss";
  settings.user_directory = "RFC";
  settings.issuer = "joe";
  const auto vector = read_json("rfc7515/a3_es256.json");
  auto verifier = JwtVerifier::create(settings, *parse_verification_keys(vector["key"].dump()));
  ASSERT_TRUE(verifier);
  const auto compact = vector["compact"].get<std::string>();
  auto jwt = verifier->verify(compact, 1300819380 - 100);
  ASSERT_TRUE(jwt) << jwt.error().describe();
  EXPECT_EQ(jwt->user().id, "joe");
  EXPECT_EQ(jwt->claims()["http://example.com/is_root"], true);
  EXPECT_EQ(verifier->verify(compact, 1300819380 + 60).error().reason, Reason::kTokenExpired);
}

TEST(Rfc8037, Ed25519) {
  const auto vector = read_json("rfc8037/a4_ed25519.json");
  check_vector(vector["key"], vector["compact"], Algorithm::kEdDSA, true);
  auto parsed = parse_compact(vector["compact"].get<std::string>());
  EXPECT_EQ(parsed->payload, vector["payload"]);
}

TEST(Rfc7520, SignatureExamples) {
  for (const Vector& v :
       {Vector{"rfc7520/jws_4_1.rsa_v15_signature.json", Algorithm::kRS256, true},
        Vector{"rfc7520/jws_4_2.rsa-pss_signature.json", Algorithm::kPS384, false},
        Vector{"rfc7520/jws_4_3.ecdsa_signature.json", Algorithm::kES512, false},
        Vector{"rfc7520/jws_4_4.hmac-sha2_integrity_protection.json", Algorithm::kHS256, true},
        Vector{"rfc7520/curve25519_jws.json", Algorithm::kEdDSA, true}}) {
    SCOPED_TRACE(v.file);
    const auto vector = read_json(v.file);
    check_vector(vector["input"]["key"], vector["output"]["compact"], v.alg, v.deterministic);
  }
}

TEST(Rfc7520, EncryptedExampleIsRefused) {
  const auto vector = read_json("rfc7520/jwe_5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json");
  auto parsed = parse_compact(vector["output"]["compact"].get<std::string>());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().reason, Reason::kTokenEncrypted);
}

}  // namespace
}  // namespace jotgate::jose
