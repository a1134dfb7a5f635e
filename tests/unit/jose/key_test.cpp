#include "jose/key.h"

#include <memory>

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "test_support.h"

namespace jotgate::jose {
namespace {

using testing::data_path;
using testing::read_data;

// PEM public key text of a key generated here (for sizes and curves the fixtures do not have).
std::string public_pem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pkey);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return text;
}

TEST(KeyLoading, ReadsACertificateAsTheOriginalSystemDoes) {
  auto keys = load_verification_keys(data_path("keys/rsa_cert.pem"));
  ASSERT_TRUE(keys) << keys.error().describe();
  ASSERT_EQ(keys->keys().size(), 1u);
  EXPECT_EQ(keys->keys()[0].type(), KeyType::kRsa);
  EXPECT_FALSE(keys->keys()[0].has_private_part());
  EXPECT_TRUE(keys->keys()[0].fits(Algorithm::kRS256));
  EXPECT_TRUE(keys->keys()[0].fits(Algorithm::kPS512));
  EXPECT_FALSE(keys->keys()[0].fits(Algorithm::kHS256));
  EXPECT_FALSE(keys->keys()[0].fits(Algorithm::kES256));
}

TEST(KeyLoading, ReadsSpkiAndPkcs1PublicKeys) {
  for (const char* file : {"keys/rsa_public.pem", "keys/rsa_public_pkcs1.pem"}) {
    auto keys = load_verification_keys(data_path(file));
    ASSERT_TRUE(keys) << file << ": " << keys.error().describe();
    EXPECT_EQ(keys->keys()[0].type(), KeyType::kRsa) << file;
  }
  auto ec = load_verification_keys(data_path("keys/ec_p384_public.pem"));
  ASSERT_TRUE(ec);
  EXPECT_TRUE(ec->keys()[0].fits(Algorithm::kES384));
  EXPECT_FALSE(ec->keys()[0].fits(Algorithm::kES256));  // the curve decides
  auto ed = load_verification_keys(data_path("keys/ed25519_public.pem"));
  ASSERT_TRUE(ed);
  EXPECT_TRUE(ed->keys()[0].fits(Algorithm::kEdDSA));
  EXPECT_TRUE(ed->keys()[0].fits(Algorithm::kEd25519));
}

TEST(KeyLoading, ReadsAJwksWithMetadata) {
  auto keys = load_verification_keys(data_path("keys/jwks.json"));
  ASSERT_TRUE(keys) << keys.error().describe();
  ASSERT_EQ(keys->keys().size(), 3u);
  EXPECT_EQ(keys->keys()[0].kid, "rsa-1");
  EXPECT_EQ(keys->keys()[0].alg, Algorithm::kRS256);
  EXPECT_EQ(keys->keys()[0].use, "sig");
  // The JWK's alg pins the key to that algorithm.
  EXPECT_FALSE(keys->keys()[0].fits(Algorithm::kRS384));
  EXPECT_EQ(keys->keys()[1].type(), KeyType::kEc);
  EXPECT_EQ(keys->keys()[2].type(), KeyType::kOkp);
}

TEST(KeyLoading, SkipsJwksKeysOfUnknownTypeAndRefusesSecretsAmongPublicKeys) {
  auto keys = parse_verification_keys(
      R"({"keys":[{"kty":"FOO","kid":"x"},)" +
      nlohmann::json::parse(read_data("keys/jwks.json"))["keys"][0].dump() + "]}");
  ASSERT_TRUE(keys) << keys.error().describe();
  EXPECT_EQ(keys->keys().size(), 1u);
  auto oct = parse_verification_keys(
      R"({"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI"}]})");
  ASSERT_FALSE(oct);
  EXPECT_EQ(oct.error().reason, Reason::kKeyUnsupported);
}

TEST(KeyLoading, CandidatesSelectByKidThenByFit) {
  auto keys = *load_verification_keys(data_path("keys/jwks.json"));
  auto by_kid = keys.candidates(Algorithm::kES256, "ec-1");
  ASSERT_EQ(by_kid.size(), 1u);
  EXPECT_EQ(by_kid[0]->kid, "ec-1");
  EXPECT_TRUE(keys.candidates(Algorithm::kES256, "rsa-1").empty());  // kid known, type wrong
  EXPECT_TRUE(keys.candidates(Algorithm::kES256, "unknown").empty());
  auto no_kid = keys.candidates(Algorithm::kEdDSA, "");
  ASSERT_EQ(no_kid.size(), 1u);
  EXPECT_EQ(no_kid[0]->kid, "ed-1");
  EXPECT_TRUE(keys.candidates(Algorithm::kRS512, "").empty());  // rsa-1 is alg RS256 only
  // PEM keys have no kid: a token's kid does not hide them.
  auto pem = *load_verification_keys(data_path("keys/rsa_public.pem"));
  EXPECT_EQ(pem.candidates(Algorithm::kRS256, "whatever").size(), 1u);
}

TEST(KeyLoading, ReadsSigningKeysInEveryPemForm) {
  for (const char* file :
       {"keys/rsa_private.pem", "keys/rsa_private_pkcs1.pem", "keys/ec_p256_private.pem",
        "keys/ec_p521_private.pem", "keys/ed25519_private.pem"}) {
    auto key = load_signing_key(data_path(file));
    ASSERT_TRUE(key) << file << ": " << key.error().describe();
    EXPECT_TRUE(key->has_private_part()) << file;
  }
}

TEST(KeyLoading, ReadsPrivateJwksIncludingOct) {
  for (const char* file : {"rfc7515/a1_hs256.json", "rfc7515/a2_rs256.json",
                           "rfc7515/a3_es256.json", "rfc8037/a4_ed25519.json"}) {
    auto key = parse_signing_key(testing::read_json(file)["key"].dump());
    ASSERT_TRUE(key) << file << ": " << key.error().describe();
    EXPECT_TRUE(key->has_private_part()) << file;
  }
  auto oct = parse_signing_key(testing::read_json("rfc7515/a1_hs256.json")["key"].dump());
  EXPECT_EQ(oct->type(), KeyType::kOct);
  EXPECT_TRUE(oct->fits(Algorithm::kHS256));
  EXPECT_FALSE(oct->fits(Algorithm::kRS256));
}

TEST(KeyLoading, RefusesAnEd25519JwkWhosePublicPartDoesNotMatch) {
  auto jwk = testing::read_json("rfc8037/a4_ed25519.json")["key"];
  jwk["x"] = "WjeOL3QDZUuH8V4sF7EsxIYHah3yM6SugAIsFztKJLc";
  auto key = parse_signing_key(jwk.dump());
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().reason, Reason::kKeyInvalid);
}

TEST(KeyLoading, RefusesRsaKeysUnder2048Bits) {
  auto small = parse_verification_keys(public_pem(EVP_RSA_gen(1024)));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().reason, Reason::kKeyUnsupported);
  EXPECT_NE(small.error().detail.find("1024"), std::string::npos);
}

TEST(KeyLoading, RefusesUnsupportedCurvesAndKeyTypes) {
  auto k1 = parse_verification_keys(public_pem(EVP_EC_gen("secp256k1")));
  ASSERT_FALSE(k1);
  EXPECT_EQ(k1.error().reason, Reason::kKeyUnsupported);
  auto ed448 = parse_verification_keys(public_pem(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448")));
  ASSERT_FALSE(ed448);
  EXPECT_EQ(ed448.error().reason, Reason::kKeyUnsupported);
  auto jwk = parse_verification_keys(R"({"kty":"EC","crv":"P-192","x":"AA","y":"AA"})");
  ASSERT_FALSE(jwk);
  EXPECT_EQ(jwk.error().reason, Reason::kKeyUnsupported);
}

TEST(KeyLoading, RefusesShortSharedSecrets) {
  auto secret = load_shared_secret(data_path("keys/hmac_short.txt"));
  ASSERT_FALSE(secret);
  EXPECT_EQ(secret.error().reason, Reason::kKeyUnsupported);
  EXPECT_NE(secret.error().detail.find("hmac_short.txt"), std::string::npos);
  auto good = load_shared_secret(data_path("keys/hmac_secret.txt"));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->type(), KeyType::kOct);
}

TEST(KeyLoading, ErrorsNameTheFileAndTheProblem) {
  auto missing = load_verification_keys(data_path("keys/does_not_exist.pem"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, Reason::kFileUnreadable);
  EXPECT_NE(missing.error().detail.find("does_not_exist.pem"), std::string::npos);

  auto garbage = parse_verification_keys("not a key");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().reason, Reason::kKeyInvalid);

  // A private key where a public key or certificate is expected.
  auto wrong_kind = load_verification_keys(data_path("keys/rsa_private.pem"));
  ASSERT_FALSE(wrong_kind);
  EXPECT_EQ(wrong_kind.error().reason, Reason::kKeyUnsupported);
  EXPECT_NE(wrong_kind.error().detail.find("rsa_private.pem"), std::string::npos);

  auto public_as_private = load_signing_key(data_path("keys/rsa_public.pem"));
  ASSERT_FALSE(public_as_private);
  EXPECT_EQ(public_as_private.error().reason, Reason::kKeyInvalid);

  auto bad_json = parse_verification_keys("{\"keys\": ");
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().reason, Reason::kKeyInvalid);
}

TEST(KeyLoading, RefusesEncryptedPrivateKeysWithoutPrompting) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  static const char kPass[] = "password";
  PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_128_cbc(), kPass, sizeof kPass - 1, nullptr,
                                nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  auto key = parse_signing_key(pem);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().reason, Reason::kKeyUnsupported);
}

TEST(KeyLoading, PublicJwkRoundTripsAndNeverShowsSecrets) {
  const auto jwks = testing::read_json("keys/jwks.json");
  struct Case {
    const char* file;
    std::size_t index;
  };
  for (const Case& c : {Case{"keys/rsa_private.pem", 0}, Case{"keys/ec_p256_private.pem", 1},
                        Case{"keys/ed25519_private.pem", 2}}) {
    auto key = load_signing_key(data_path(c.file));
    ASSERT_TRUE(key);
    const auto jwk = nlohmann::json::parse(public_jwk(*key));
    const auto& expected = jwks["keys"][c.index];
    for (const char* member : {"kty", "crv", "n", "e", "x", "y"}) {
      if (expected.contains(member)) {
        EXPECT_EQ(jwk.at(member), expected.at(member)) << c.file << " " << member;
      }
    }
    EXPECT_FALSE(jwk.contains("d")) << c.file;
    auto reparsed = parse_verification_keys(jwk.dump());
    EXPECT_TRUE(reparsed) << c.file;
  }
  const auto secret = make_shared_secret("0123456789abcdef0123456789abcdef");
  const auto text = public_jwk(secret);
  EXPECT_EQ(text.find("MDEy"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(text).contains("k"));
}

}  // namespace
}  // namespace jotgate::jose
