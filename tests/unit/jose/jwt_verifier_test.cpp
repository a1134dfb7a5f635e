#include "jose/jwt_verifier.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace jotgate::jose {
namespace {

using testing::data_path;
using testing::header_for;
using testing::signing_key_for;
using testing::verification_keys_for;

constexpr UnixSeconds kNow = 1'700'000'000;

class JwtVerifierTest : public ::testing::Test {
 protected:
  std::string sign(const nlohmann::json& claims, Algorithm alg = Algorithm::kRS256) {
    auto token = sign_compact(header_for(alg), claims.dump(), signing_key_for(alg));
    EXPECT_TRUE(token);
    return *token;
  }
  std::string sign_text(std::string_view payload) {
    return *sign_compact(header_for(Algorithm::kRS256), payload,
                         signing_key_for(Algorithm::kRS256));
  }
  nlohmann::json claims() const {
    return {
        {"userId", "alice"}, {"userDirectory", "ACME"}, {"iat", kNow - 10}, {"exp", kNow + 3600}};
  }
  Result<VerifiedJwt> verify(std::string_view token, VerifierSettings settings = {},
                             UnixSeconds now = kNow) {
    auto verifier =
        JwtVerifier::create(std::move(settings), verification_keys_for(Algorithm::kRS256));
    EXPECT_TRUE(verifier);
    return verifier->verify(token, now);
  }
  Reason reason(std::string_view token, VerifierSettings settings = {}, UnixSeconds now = kNow) {
    auto result = verify(token, std::move(settings), now);
    EXPECT_FALSE(result) << token;
    return result ? Reason::kBadRequest : result.error().reason;
  }
};

TEST_F(JwtVerifierTest, AcceptsAValidTokenAndExposesIdentityHeaderClaimsAndExpiry) {
  auto jwt = verify(sign(claims()));
  ASSERT_TRUE(jwt) << jwt.error().describe();
  EXPECT_EQ(jwt->user(), (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(jwt->header()["alg"], "RS256");
  EXPECT_EQ(jwt->claims()["userId"], "alice");
  EXPECT_EQ(jwt->expires_at(), kNow + 3600);
}

TEST_F(JwtVerifierTest, DefaultsAreTheOriginalSystemsAlgorithmsAndClaims) {
  const VerifierSettings settings;
  EXPECT_EQ(settings.algorithms, default_algorithms());
  EXPECT_EQ(settings.leeway_seconds, 60);
  EXPECT_EQ(settings.user_id_claim, "userId");
  EXPECT_EQ(settings.user_directory_claim, "userDirectory");
  EXPECT_EQ(settings.max_token_size, 16u * 1024u);
  EXPECT_EQ(reason(sign(claims(), Algorithm::kPS256)), Reason::kAlgNotAllowed);
}

TEST_F(JwtVerifierTest, CreateRefusesKeysThatServeNoAllowedAlgorithm) {
  VerifierSettings settings;
  auto none = JwtVerifier::create(settings, KeySet());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().reason, Reason::kKeyUnsupported);
  auto ec_for_rsa_algs = JwtVerifier::create(settings, verification_keys_for(Algorithm::kES256));
  ASSERT_FALSE(ec_for_rsa_algs);
  EXPECT_EQ(ec_for_rsa_algs.error().reason, Reason::kKeyUnsupported);
  settings.algorithms.clear();
  EXPECT_FALSE(JwtVerifier::create(settings, verification_keys_for(Algorithm::kRS256)));
}

TEST_F(JwtVerifierTest, ChecksTheSignatureBeforeAnyClaim) {
  // Expired, no identity and a payload that is not even an object: the signature speaks first.
  const auto other = *load_signing_key(data_path("keys/rsa_other_private.pem"));
  for (const std::string& payload :
       {nlohmann::json{{"exp", 1}}.dump(), std::string("[]"), std::string("x")}) {
    const auto token = *sign_compact(header_for(Algorithm::kRS256), payload, other);
    EXPECT_EQ(reason(token), Reason::kSignatureMismatch) << payload;
  }
}

TEST_F(JwtVerifierTest, PayloadNotAJsonObjectOrWithDuplicates) {
  EXPECT_EQ(reason(sign_text("[]")), Reason::kPayloadNotJsonObject);
  EXPECT_EQ(reason(sign_text("not json")), Reason::kPayloadNotJsonObject);
  EXPECT_EQ(reason(sign_text("")), Reason::kPayloadNotJsonObject);
  EXPECT_EQ(reason(sign_text(R"({"userId":"alice","userDirectory":"ACME","userId":"admin"})")),
            Reason::kDuplicateMember);
  EXPECT_EQ(reason(sign_text(R"({"userId":"a","userDirectory":"b","x":{"y":1,"y":2}})")),
            Reason::kDuplicateMember);
}

TEST_F(JwtVerifierTest, ExpiredWithLeeway) {
  auto c = claims();
  c["exp"] = kNow - 61;
  EXPECT_EQ(reason(sign(c)), Reason::kTokenExpired);
  c["exp"] = kNow - 59;  // within the default 60 s leeway
  EXPECT_TRUE(verify(sign(c)));
  VerifierSettings strict;
  strict.leeway_seconds = 0;
  c["exp"] = kNow;  // valid only before exp
  EXPECT_EQ(reason(sign(c), strict), Reason::kTokenExpired);
  c["exp"] = kNow + 1;
  EXPECT_TRUE(verify(sign(c), strict));
}

TEST_F(JwtVerifierTest, NotYetValidWithLeeway) {
  auto c = claims();
  c["nbf"] = kNow + 61;
  EXPECT_EQ(reason(sign(c)), Reason::kTokenNotYetValid);
  c["nbf"] = kNow + 60;
  EXPECT_TRUE(verify(sign(c)));
}

TEST_F(JwtVerifierTest, TimeClaimsAcceptIntegersAndFractionsAndNothingElse) {
  auto c = claims();
  c["exp"] = static_cast<double>(kNow) + 0.5;
  c["nbf"] = static_cast<double>(kNow) - 0.5;
  VerifierSettings strict;
  strict.leeway_seconds = 0;
  EXPECT_TRUE(verify(sign(c), strict));
  EXPECT_EQ(reason(sign(c), strict, kNow + 1), Reason::kTokenExpired);
  for (const char* name : {"exp", "nbf", "iat"}) {
    for (const nlohmann::json& bad :
         {nlohmann::json("1700000000"), nlohmann::json(true), nlohmann::json(nullptr),
          nlohmann::json::array({1}), nlohmann::json::object()}) {
      auto wrong = claims();
      wrong[name] = bad;
      EXPECT_EQ(reason(sign(wrong)), Reason::kClaimMalformed) << name << " = " << bad.dump();
    }
  }
}

TEST_F(JwtVerifierTest, FarFutureExpiryDoesNotOverflow) {
  auto c = claims();
  c["exp"] = 1e300;
  auto jwt = verify(sign(c));
  ASSERT_TRUE(jwt);
  EXPECT_GT(*jwt->expires_at(), kNow);
  c["exp"] = -1e300;
  EXPECT_EQ(reason(sign(c)), Reason::kTokenExpired);
}

TEST_F(JwtVerifierTest, IssuerCheckedWhenConfigured) {
  VerifierSettings settings;
  settings.issuer = "https://idp.example";
  auto c = claims();
  EXPECT_EQ(reason(sign(c), settings), Reason::kIssuerMismatch);  // missing
  c["iss"] = "https://evil.example";
  EXPECT_EQ(reason(sign(c), settings), Reason::kIssuerMismatch);
  c["iss"] = "https://idp.example";
  EXPECT_TRUE(verify(sign(c), settings));
  c["iss"] = 7;
  EXPECT_EQ(reason(sign(c), settings), Reason::kClaimMalformed);
  EXPECT_EQ(reason(sign(c)), Reason::kClaimMalformed);  // malformed even when not configured
}

TEST_F(JwtVerifierTest, AudienceAsStringOrArray) {
  VerifierSettings settings;
  settings.audiences = {"jotgate", "other"};
  auto c = claims();
  EXPECT_EQ(reason(sign(c), settings), Reason::kAudienceMismatch);  // missing
  c["aud"] = "somebody-else";
  EXPECT_EQ(reason(sign(c), settings), Reason::kAudienceMismatch);
  c["aud"] = nlohmann::json::array({"a", "b"});
  EXPECT_EQ(reason(sign(c), settings), Reason::kAudienceMismatch);
  c["aud"] = "jotgate";
  EXPECT_TRUE(verify(sign(c), settings));
  c["aud"] = nlohmann::json::array({"a", "other"});
  EXPECT_TRUE(verify(sign(c), settings));
  c["aud"] = nlohmann::json::array({"jotgate", 3});
  EXPECT_EQ(reason(sign(c), settings), Reason::kClaimMalformed);
  c["aud"] = 3;
  EXPECT_EQ(reason(sign(c), settings), Reason::kClaimMalformed);
}

TEST_F(JwtVerifierTest, RequiredClaims) {
  VerifierSettings settings;
  settings.required_claims = {"iat", "jti"};
  auto missing = verify(sign(claims()), settings);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, Reason::kRequiredClaimMissing);
  EXPECT_EQ(missing.error().detail, "jti");
  auto c = claims();
  c["jti"] = "1";
  EXPECT_TRUE(verify(sign(c), settings));
}

TEST_F(JwtVerifierTest, IdentityFromConfiguredClaimsOrAConstantDirectory) {
  VerifierSettings settings;
  settings.user_id_claim = "sub";
  settings.user_directory_claim = "tenant";
  auto c = nlohmann::json{{"sub", "bob"}, {"tenant", "EXAMPLE"}};
  auto jwt = verify(sign(c), settings);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->user(), (UserIdentity{"EXAMPLE", "bob"}));
  EXPECT_FALSE(jwt->expires_at());

  settings.user_directory = "CONST";
  c.erase("tenant");
  jwt = verify(sign(c), settings);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->user(), (UserIdentity{"CONST", "bob"}));
}

TEST_F(JwtVerifierTest, MissingOrNonStringIdentityClaims) {
  for (const char* name : {"userId", "userDirectory"}) {
    for (const nlohmann::json& bad : {nlohmann::json(42), nlohmann::json(nullptr),
                                      nlohmann::json(""), nlohmann::json::array({"alice"})}) {
      auto c = claims();
      c[name] = bad;
      auto result = verify(sign(c));
      ASSERT_FALSE(result) << name << " = " << bad.dump();
      EXPECT_EQ(result.error().reason, Reason::kIdentityClaimMissing);
      EXPECT_EQ(result.error().detail, name);
    }
    auto c = claims();
    c.erase(name);
    EXPECT_EQ(reason(sign(c)), Reason::kIdentityClaimMissing) << name;
  }
}

TEST_F(JwtVerifierTest, TokenSizeLimitFromSettings) {
  VerifierSettings settings;
  auto c = claims();
  c["padding"] = std::string(20 * 1024, 'x');
  EXPECT_EQ(reason(sign(c), settings), Reason::kTokenTooLarge);
  settings.max_token_size = 64 * 1024;
  EXPECT_TRUE(verify(sign(c), settings));
}

TEST_F(JwtVerifierTest, HmacOnlyWithAnExplicitSecret) {
  VerifierSettings settings;
  settings.algorithms = {Algorithm::kHS256};
  auto verifier = JwtVerifier::create(settings, verification_keys_for(Algorithm::kHS256));
  ASSERT_TRUE(verifier);
  EXPECT_TRUE(verifier->verify(sign(claims(), Algorithm::kHS256), kNow));
  // Defaults never accept HMAC, even with a secret configured.
  auto defaults = JwtVerifier::create(VerifierSettings{}, verification_keys_for(Algorithm::kHS256));
  EXPECT_FALSE(defaults);
}

TEST(ValidateClaims, WorksOnItsOwn) {
  VerifierSettings settings;
  auto user =
      validate_claims(nlohmann::json{{"userId", "a"}, {"userDirectory", "D"}}, settings, kNow);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->qualified(), "D\\a");
  EXPECT_EQ(validate_claims(nlohmann::json::array(), settings, kNow).error().reason,
            Reason::kPayloadNotJsonObject);
}

}  // namespace
}  // namespace jotgate::jose
