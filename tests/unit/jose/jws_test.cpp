#include "jose/jws.h"

#include <atomic>
#include <thread>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "test_support.h"

namespace jotgate::jose {
namespace {

using testing::all_algorithms;
using testing::assemble;
using testing::data_path;
using testing::header_for;
using testing::signing_key_for;
using testing::verification_keys_for;

constexpr std::string_view kPayload = R"({"userId":"alice","userDirectory":"ACME"})";

Reason parse_reason(std::string_view token, std::size_t max_size = kDefaultMaxTokenSize) {
  auto parsed = parse_compact(token, max_size);
  EXPECT_FALSE(parsed) << token;
  return parsed ? Reason::kBadRequest : parsed.error().reason;
}

Reason verify_reason(std::string_view token, const KeySet& keys, std::vector<Algorithm> allowed) {
  auto parsed = parse_compact(token);
  if (!parsed) return parsed.error().reason;
  auto verified = verify_signature(*parsed, keys, allowed);
  EXPECT_FALSE(verified) << token;
  return verified ? Reason::kBadRequest : verified.error().reason;
}

class RoundTrip : public ::testing::TestWithParam<Algorithm> {};

TEST_P(RoundTrip, SignsThenVerifiesAndRejectsEveryFlippedSignatureBit) {
  const Algorithm alg = GetParam();
  const auto key = signing_key_for(alg);
  auto token = sign_compact(header_for(alg), kPayload, key);
  ASSERT_TRUE(token) << token.error().describe();

  const auto keys = verification_keys_for(alg);
  auto parsed = parse_compact(*token);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed->alg, alg);
  EXPECT_EQ(parsed->payload, kPayload);
  EXPECT_EQ(parsed->header["typ"], "JWT");
  ASSERT_TRUE(verify_signature(*parsed, keys, {alg}));
  // The signing key itself also verifies.
  ASSERT_TRUE(verify_signature(*parsed, KeySet({key}), {alg}));

  const std::string original = parsed->signature;
  for (std::size_t bit = 0; bit < original.size() * 8; ++bit) {
    std::string flipped = original;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    const auto dot = token->rfind('.');
    const auto tampered = token->substr(0, dot + 1) + base64url_encode(flipped);
    auto tampered_parsed = parse_compact(tampered);
    ASSERT_TRUE(tampered_parsed);
    auto result = verify_signature(*tampered_parsed, keys, {alg});
    ASSERT_FALSE(result) << algorithm_name(alg) << " bit " << bit;
    ASSERT_EQ(result.error().reason, Reason::kSignatureMismatch)
        << algorithm_name(alg) << " bit " << bit;
  }

  // A changed payload with the original signature fails too.
  const auto first_dot = token->find('.');
  const auto second_dot = token->find('.', first_dot + 1);
  const auto forged = token->substr(0, first_dot + 1) +
                      base64url_encode(R"({"userId":"mallory","userDirectory":"ACME"})") +
                      token->substr(second_dot);
  EXPECT_EQ(verify_reason(forged, keys, {alg}), Reason::kSignatureMismatch);
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, RoundTrip, ::testing::ValuesIn(all_algorithms()),
                         [](const auto& info) { return std::string(algorithm_name(info.param)); });

TEST(RoundTrip, RsaPkcs1SignatureIsDeterministicAndPssIsNot) {
  const auto key = signing_key_for(Algorithm::kRS256);
  EXPECT_EQ(*sign_compact(header_for(Algorithm::kRS256), kPayload, key),
            *sign_compact(header_for(Algorithm::kRS256), kPayload, key));
  EXPECT_NE(*sign_compact(header_for(Algorithm::kPS256), kPayload, key),
            *sign_compact(header_for(Algorithm::kPS256), kPayload, key));
}

TEST(RoundTrip, EdDsaAndEd25519AreTheSameSignature) {
  const auto key = signing_key_for(Algorithm::kEdDSA);
  // parse_compact's result points into the token: keep the tokens alive.
  const auto eddsa_token = *sign_compact(R"({"alg":"EdDSA"})", kPayload, key);
  const auto ed25519_token = *sign_compact(R"({"alg":"Ed25519"})", kPayload, key);
  auto eddsa = parse_compact(eddsa_token);
  auto ed25519 = parse_compact(ed25519_token);
  ASSERT_TRUE(eddsa && ed25519);
  // Different headers, so different signing inputs; each verifies under both names' key.
  EXPECT_TRUE(
      verify_signature(*eddsa, verification_keys_for(Algorithm::kEdDSA), {Algorithm::kEdDSA}));
  EXPECT_TRUE(verify_signature(*ed25519, verification_keys_for(Algorithm::kEd25519),
                               {Algorithm::kEd25519}));
  // The name is still an allowed-list entry of its own.
  auto refused =
      verify_signature(*ed25519, verification_keys_for(Algorithm::kEdDSA), {Algorithm::kEdDSA});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, Reason::kAlgNotAllowed);
}

TEST(SignCompact, RefusesHeadersThatDoNotFitTheKey) {
  const auto rsa = signing_key_for(Algorithm::kRS256);
  EXPECT_EQ(sign_compact(R"({"alg":"HS256"})", kPayload, rsa).error().reason,
            Reason::kAlgKeyMismatch);
  EXPECT_EQ(sign_compact(R"({"alg":"none"})", kPayload, rsa).error().reason,
            Reason::kAlgNotAllowed);
  EXPECT_EQ(sign_compact(R"({"typ":"JWT"})", kPayload, rsa).error().reason, Reason::kAlgMissing);
  EXPECT_EQ(sign_compact("[]", kPayload, rsa).error().reason, Reason::kHeaderNotJsonObject);
  const auto p256 = signing_key_for(Algorithm::kES256);
  EXPECT_EQ(sign_compact(R"({"alg":"ES384"})", kPayload, p256).error().reason,
            Reason::kAlgKeyMismatch);
  // A JWK's "alg" pins the key to that algorithm for signing too.
  auto pinned = *parse_signing_key(R"({"kty":"oct","alg":"HS384","k":")" +
                                   base64url_encode(std::string(32, 'k')) + R"("})");
  EXPECT_EQ(sign_compact(R"({"alg":"HS256"})", kPayload, pinned).error().reason,
            Reason::kAlgKeyMismatch);
  EXPECT_TRUE(sign_compact(R"({"alg":"HS384"})", kPayload, pinned));
  auto public_only = verification_keys_for(Algorithm::kRS256).keys()[0];
  EXPECT_EQ(sign_compact(R"({"alg":"RS256"})", kPayload, public_only).error().reason,
            Reason::kKeyUnsupported);
}

// ---- rejections, in the order parse_compact checks them ----

TEST(Rejection, TokenLargerThanTheLimitBeforeAnyParsing) {
  // Five parts and garbage: only the size may be looked at.
  const std::string huge = std::string(kDefaultMaxTokenSize, '!') + "....";
  EXPECT_EQ(parse_reason(huge), Reason::kTokenTooLarge);
  auto token =
      *sign_compact(header_for(Algorithm::kHS256), kPayload, signing_key_for(Algorithm::kHS256));
  EXPECT_EQ(parse_reason(token, token.size() - 1), Reason::kTokenTooLarge);
  EXPECT_TRUE(parse_compact(token, token.size()));
}

TEST(Rejection, EncryptedTokensWithAMessageSayingSo) {
  const auto jwe =
      testing::read_json("rfc7520/jwe_5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json");
  auto parsed = parse_compact(jwe["output"]["compact"].get<std::string>());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().reason, Reason::kTokenEncrypted);
  EXPECT_NE(parsed.error().message().find("encrypted tokens"), std::string::npos);
  EXPECT_NE(parsed.error().message().find("not supported"), std::string::npos);
  EXPECT_EQ(parse_reason("a.b.c.d.e"), Reason::kTokenEncrypted);
}

TEST(Rejection, WrongNumberOfParts) {
  for (const char* token :
       {"", "abc", "eyJhbGciOiJSUzI1NiJ9.e30", "a.b.c.d", "a.b.c.d.e.f", ".e30.c2ln"}) {
    EXPECT_EQ(parse_reason(token), Reason::kTokenMalformed) << token;
  }
}

TEST(Rejection, MalformedBase64Url) {
  const auto good = assemble(R"({"alg":"RS256"})", kPayload);
  const auto first_dot = good.find('.');
  EXPECT_EQ(
      parse_reason(base64url_encode(R"({"alg":"RS256"})") + "=." + good.substr(first_dot + 1)),
      Reason::kBase64UrlMalformed);
  EXPECT_EQ(parse_reason(good.substr(0, first_dot + 1) + "e+30." + "c2ln"),
            Reason::kBase64UrlMalformed);
  EXPECT_EQ(parse_reason(good + "/"), Reason::kBase64UrlMalformed);
  EXPECT_EQ(parse_reason(good + "=="), Reason::kBase64UrlMalformed);
  EXPECT_EQ(parse_reason(good.substr(0, first_dot) + " ." + good.substr(first_dot + 1)),
            Reason::kBase64UrlMalformed);
}

TEST(Rejection, HeaderNotAJsonObject) {
  for (const char* header : {"[1]", "\"RS256\"", "null", "{\"alg\":\"RS256\"", "not json",
                             "{\"alg\":\"RS256\"} trailing", "{\"alg\":\"\xff\"}"}) {
    EXPECT_EQ(parse_reason(assemble(header, kPayload)), Reason::kHeaderNotJsonObject) << header;
  }
}

TEST(Rejection, DuplicateMembersInTheHeaderAtAnyDepth) {
  EXPECT_EQ(parse_reason(assemble(R"({"alg":"RS256","alg":"HS256"})", kPayload)),
            Reason::kDuplicateMember);
  EXPECT_EQ(parse_reason(assemble(R"({"alg":"RS256","x":{"a":1,"b":[{"c":1,"c":1}]}})", kPayload)),
            Reason::kDuplicateMember);
  // The same name in different objects is fine.
  EXPECT_TRUE(parse_compact(assemble(R"({"alg":"RS256","a":{"alg":1},"b":{"alg":2}})", kPayload)));
}

TEST(Rejection, MissingAlg) {
  EXPECT_EQ(parse_reason(assemble(R"({"typ":"JWT"})", kPayload)), Reason::kAlgMissing);
  EXPECT_EQ(parse_reason(assemble(R"({"alg":256})", kPayload)), Reason::kAlgMissing);
}

TEST(Rejection, AlgNoneInAnyLetterCase) {
  for (const char* alg : {"none", "None", "NONE", "nOnE", "noNe"}) {
    const auto header = std::string(R"({"alg":")") + alg + R"("})";
    EXPECT_EQ(parse_reason(base64url_encode(header) + "." + base64url_encode(kPayload) + "."),
              Reason::kAlgNone)
        << alg;
    EXPECT_EQ(parse_reason(assemble(header, kPayload)), Reason::kAlgNone) << alg;
  }
}

TEST(Rejection, UnknownOrUnlistedAlgorithm) {
  EXPECT_EQ(parse_reason(assemble(R"({"alg":"XS256"})", kPayload)), Reason::kAlgNotAllowed);
  EXPECT_EQ(parse_reason(assemble(R"({"alg":"rs256"})", kPayload)), Reason::kAlgNotAllowed);
  EXPECT_EQ(parse_reason(assemble(R"({"alg":"ES256K"})", kPayload)), Reason::kAlgNotAllowed);
  const auto token =
      *sign_compact(header_for(Algorithm::kRS512), kPayload, signing_key_for(Algorithm::kRS512));
  EXPECT_EQ(verify_reason(token, verification_keys_for(Algorithm::kRS256), {Algorithm::kRS256}),
            Reason::kAlgNotAllowed);
}

TEST(Rejection, AnyCritHeader) {
  for (const char* header :
       {R"({"alg":"RS256","crit":["exp"],"exp":1})", R"({"alg":"RS256","crit":[]})",
        R"({"alg":"RS256","crit":"b64"})", R"({"alg":"RS256","crit":["b64"],"b64":false})",
        R"({"alg":"RS256","crit":[1]})"}) {
    EXPECT_EQ(parse_reason(assemble(header, kPayload)), Reason::kCritUnsupported) << header;
  }
}

TEST(Rejection, NonStringKid) {
  EXPECT_EQ(parse_reason(assemble(R"({"alg":"RS256","kid":7})", kPayload)),
            Reason::kTokenMalformed);
}

TEST(Rejection, HmacAgainstAnRsaKeyIsAlgorithmConfusion) {
  // The classic attack: sign HS256 with the RSA public key's PEM text as the HMAC secret.
  const auto public_pem = testing::read_data("keys/rsa_public.pem");
  const auto forged = *sign_compact(R"({"alg":"HS256"})", kPayload, make_shared_secret(public_pem));
  const auto rsa_keys = verification_keys_for(Algorithm::kRS256);
  EXPECT_EQ(verify_reason(forged, rsa_keys, {Algorithm::kRS256, Algorithm::kHS256}),
            Reason::kAlgKeyMismatch);
  // Even when every algorithm is allowed.
  EXPECT_EQ(verify_reason(forged, rsa_keys, all_algorithms()), Reason::kAlgKeyMismatch);
  // And against EC and OKP keys.
  EXPECT_EQ(verify_reason(forged, verification_keys_for(Algorithm::kES256), all_algorithms()),
            Reason::kAlgKeyMismatch);
  EXPECT_EQ(verify_reason(forged, verification_keys_for(Algorithm::kEdDSA), all_algorithms()),
            Reason::kAlgKeyMismatch);
}

TEST(Rejection, AsymmetricAlgAgainstTheWrongKeyType) {
  const auto es =
      *sign_compact(header_for(Algorithm::kES256), kPayload, signing_key_for(Algorithm::kES256));
  EXPECT_EQ(verify_reason(es, verification_keys_for(Algorithm::kRS256), all_algorithms()),
            Reason::kAlgKeyMismatch);
  // ES384 against a P-256 key: the curve does not fit.
  const auto es384 =
      *sign_compact(header_for(Algorithm::kES384), kPayload, signing_key_for(Algorithm::kES384));
  EXPECT_EQ(verify_reason(es384, verification_keys_for(Algorithm::kES256), all_algorithms()),
            Reason::kAlgKeyMismatch);
  const auto rs =
      *sign_compact(header_for(Algorithm::kRS256), kPayload, signing_key_for(Algorithm::kRS256));
  EXPECT_EQ(verify_reason(rs, verification_keys_for(Algorithm::kHS256), all_algorithms()),
            Reason::kAlgKeyMismatch);
}

TEST(Rejection, SignatureFromAnotherKey) {
  const auto other = *load_signing_key(data_path("keys/rsa_other_private.pem"));
  const auto token = *sign_compact(header_for(Algorithm::kRS256), kPayload, other);
  EXPECT_EQ(verify_reason(token, verification_keys_for(Algorithm::kRS256), {Algorithm::kRS256}),
            Reason::kSignatureMismatch);
  // With both keys configured, the right one is found.
  auto both = *load_verification_keys(data_path("keys/rsa_public.pem"));
  auto other_public = *load_verification_keys(data_path("keys/rsa_other_public.pem"));
  std::vector<Key> keys = both.keys();
  keys.push_back(other_public.keys()[0]);
  auto parsed = parse_compact(token);
  EXPECT_TRUE(verify_signature(*parsed, KeySet(keys), {Algorithm::kRS256}));
}

TEST(Rejection, EcdsaSignatureInDerOrOfTheWrongLength) {
  const auto key = signing_key_for(Algorithm::kES256);
  const auto token = *sign_compact(header_for(Algorithm::kES256), kPayload, key);
  const auto dot = token.rfind('.');
  const auto raw = *base64url_decode(token.substr(dot + 1));
  ASSERT_EQ(raw.size(), 64u);
  // The same signature, DER-encoded as OpenSSL would produce it.
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  const std::string der_sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);

  const auto keys = verification_keys_for(Algorithm::kES256);
  EXPECT_EQ(verify_reason(token.substr(0, dot + 1) + base64url_encode(der_sig), keys,
                          {Algorithm::kES256}),
            Reason::kSignatureMalformed);
  EXPECT_EQ(verify_reason(token.substr(0, dot + 1) + base64url_encode(raw.substr(0, 63)), keys,
                          {Algorithm::kES256}),
            Reason::kSignatureMalformed);
  EXPECT_EQ(verify_reason(token.substr(0, dot + 1) + base64url_encode(raw + '\0'), keys,
                          {Algorithm::kES256}),
            Reason::kSignatureMalformed);
  EXPECT_EQ(verify_reason(token.substr(0, dot + 1), keys, {Algorithm::kES256}),
            Reason::kSignatureMalformed);
}

TEST(Rejection, KeysNamedByTheTokenAreNeverUsed) {
  // An attacker signs with their own key and names it in every way JOSE allows.
  const auto attacker = *load_signing_key(data_path("keys/rsa_other_private.pem"));
  nlohmann::json header = {{"alg", "RS256"},
                           {"jwk", nlohmann::json::parse(public_jwk(attacker))},
                           {"jku", "https://attacker.example/jwks.json"},
                           {"x5u", "https://attacker.example/cert.pem"},
                           {"x5c", {"MIIB"}}};
  const auto token = *sign_compact(header.dump(), kPayload, attacker);
  EXPECT_EQ(verify_reason(token, verification_keys_for(Algorithm::kRS256), {Algorithm::kRS256}),
            Reason::kSignatureMismatch);
}

TEST(Rejection, KidThatSelectsNoKey) {
  const auto jwks = *load_verification_keys(data_path("keys/jwks.json"));
  // ES256 token, kid of the RSA key: the kid selects a key the alg does not fit.
  const auto es = *sign_compact(R"({"alg":"ES256","kid":"rsa-1"})", kPayload,
                                signing_key_for(Algorithm::kES256));
  EXPECT_EQ(verify_reason(es, jwks, all_algorithms()), Reason::kNoMatchingKey);
  // RS384 against a JWKS whose RSA key is pinned to RS256.
  const auto rs384 =
      *sign_compact(R"({"alg":"RS384"})", kPayload, signing_key_for(Algorithm::kRS384));
  EXPECT_EQ(verify_reason(rs384, jwks, all_algorithms()), Reason::kNoMatchingKey);
  // Right kid verifies; no kid tries the fitting keys.
  const auto good = *sign_compact(R"({"alg":"ES256","kid":"ec-1"})", kPayload,
                                  signing_key_for(Algorithm::kES256));
  EXPECT_TRUE(verify_signature(*parse_compact(good), jwks, all_algorithms()));
  const auto no_kid =
      *sign_compact(R"({"alg":"EdDSA"})", kPayload, signing_key_for(Algorithm::kEdDSA));
  EXPECT_TRUE(verify_signature(*parse_compact(no_kid), jwks, all_algorithms()));
}

TEST(Concurrency, OneKeySetServesManyThreads) {
  // Keys are shared read-only across the gateway's threads (prepared contexts are duplicated,
  // never used in place): concurrent verifies must all succeed, and forgeries all fail.
  std::vector<std::pair<std::string, KeySet>> cases;
  for (const Algorithm alg : {Algorithm::kRS256, Algorithm::kPS256, Algorithm::kES256,
                              Algorithm::kEdDSA, Algorithm::kHS256}) {
    cases.emplace_back(*sign_compact(header_for(alg), kPayload, signing_key_for(alg)),
                       verification_keys_for(alg));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        for (const auto& [token, keys] : cases) {
          auto parsed = parse_compact(token);
          if (!parsed || !verify_signature(*parsed, keys, all_algorithms())) ++failures;
          auto forged = *parsed;
          forged.signature[0] = static_cast<char>(forged.signature[0] ^ 0x01);
          if (verify_signature(forged, keys, all_algorithms())) ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ParseJsonObject, RefusesDuplicatesAndNonObjects) {
  EXPECT_TRUE(parse_json_object(R"({"a":1,"b":{"a":2}})", Reason::kPayloadNotJsonObject));
  EXPECT_EQ(parse_json_object(R"({"a":1,"a":1})", Reason::kPayloadNotJsonObject).error().reason,
            Reason::kDuplicateMember);
  EXPECT_EQ(parse_json_object(R"([{"a":1}])", Reason::kPayloadNotJsonObject).error().reason,
            Reason::kPayloadNotJsonObject);
  // The parse stops at the first repeated name, wherever it is.
  EXPECT_EQ(parse_json_object(R"([{"a":1,"a":1}])", Reason::kPayloadNotJsonObject).error().reason,
            Reason::kDuplicateMember);
  // Values of every JSON type land where they belong.
  auto all =
      parse_json_object(R"({"n":null,"t":true,"i":-3,"u":18446744073709551615,"f":1.5,"s":"x",)"
                        R"("a":[1,[2,{"k":[]}],{}],"o":{"p":{"q":"r"}}})",
                        Reason::kPayloadNotJsonObject);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all,
            nlohmann::json::parse(R"({"n":null,"t":true,"i":-3,"u":18446744073709551615,"f":1.5,)"
                                  R"("s":"x","a":[1,[2,{"k":[]}],{}],"o":{"p":{"q":"r"}}})"));
  EXPECT_EQ(parse_json_object("{} {}", Reason::kPayloadNotJsonObject).error().reason,
            Reason::kPayloadNotJsonObject);
  EXPECT_EQ(parse_json_object(std::string(5000, '[') + std::string(5000, ']'),
                              Reason::kPayloadNotJsonObject)
                .error()
                .reason,
            Reason::kPayloadNotJsonObject);
  EXPECT_EQ(
      parse_json_object(R"({"x":[{"a":1},{"b":{"c":1,"c":2}}]})", Reason::kPayloadNotJsonObject)
          .error()
          .reason,
      Reason::kDuplicateMember);
  EXPECT_EQ(parse_json_object("", Reason::kPayloadNotJsonObject).error().reason,
            Reason::kPayloadNotJsonObject);
  EXPECT_EQ(parse_json_object("42", Reason::kPayloadNotJsonObject).error().reason,
            Reason::kPayloadNotJsonObject);
}

}  // namespace
}  // namespace jotgate::jose
