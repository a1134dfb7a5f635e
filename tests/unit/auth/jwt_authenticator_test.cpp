// JwtAuthenticator alone: tokens signed in the test, a pinned time, every reason a token is
// refused with, and the token cache (its session shortcut, its bound at exp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/jwt_authenticator.h"
#include "jose/jws.h"
#include "jose/key.h"

namespace jotgate::auth {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;
const std::string kData = JOTGATE_TEST_DATA;

class JwtAuthenticatorTest : public ::testing::Test {
 protected:
  static std::unique_ptr<JwtAuthenticator> make(std::size_t token_cache = 100) {
    config::JwtSettings settings;
    config::JwtProvider provider;
    provider.key = kData + "/keys/rsa_cert.pem";
    provider.forward_claims = {{"groups", "X-Groups"}, {"level", "X-Level"}};
    settings.providers = {provider};
    settings.token_cache = token_cache;
    auto created = JwtAuthenticator::create(settings, "virtual_proxies[0].auth");
    EXPECT_TRUE(created.ok()) << created.error().describe();
    return std::move(*created);
  }
  static std::string token(nlohmann::json claims, const std::string& key = "rsa_private.pem") {
    if (!claims.contains("exp")) claims["exp"] = kNow + 3600;
    auto signer = jose::load_signing_key(kData + "/keys/" + key);
    auto signed_token =
        jose::sign_compact(R"({"alg":"RS256","typ":"JWT"})", claims.dump(), *signer);
    EXPECT_TRUE(signed_token.ok());
    return *signed_token;
  }
  static std::string alice(nlohmann::json more = nlohmann::json::object()) {
    more["userId"] = "alice";
    more["userDirectory"] = "ACME";
    return token(more);
  }
  static Reason refusal(JwtAuthenticator& jwt, const std::string& t, UnixSeconds now = kNow) {
    auto proven = jwt.authenticate(t, now);
    EXPECT_FALSE(proven.ok()) << t;
    return proven ? Reason::kBadRequest : proven.error().reason;
  }
};

TEST_F(JwtAuthenticatorTest, ProvesTheUserWithTheForwardedClaims) {
  auto jwt = make();
  auto proven = jwt->authenticate(alice({{"groups", {"g1", "g2"}}, {"level", 3}, {"x", 1}}), kNow);
  ASSERT_TRUE(proven.ok()) << proven.error().describe();
  EXPECT_EQ(proven->credential.user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(proven->credential.attributes, (HeaderList{{"X-Groups", "g1,g2"}, {"X-Level", "3"}}));
  EXPECT_EQ(proven->session_handle, 0u);
  EXPECT_TRUE(proven->cache_key);
}

TEST_F(JwtAuthenticatorTest, EachBadTokenIsRefusedWithItsReason) {
  auto jwt = make();
  std::string flipped = alice();
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(refusal(*jwt, "garbage"), Reason::kTokenMalformed);
  EXPECT_EQ(refusal(*jwt, ""), Reason::kTokenMalformed);
  EXPECT_EQ(refusal(*jwt, flipped), Reason::kSignatureMismatch);
  EXPECT_EQ(refusal(*jwt, token({{"userId", "alice"}, {"userDirectory", "ACME"}},
                                "rsa_other_private.pem")),
            Reason::kSignatureMismatch);
  EXPECT_EQ(refusal(*jwt, alice({{"exp", kNow - 3600}})), Reason::kTokenExpired);
  EXPECT_EQ(refusal(*jwt, alice({{"nbf", kNow + 3600}})), Reason::kTokenNotYetValid);
  EXPECT_EQ(refusal(*jwt, token({{"userDirectory", "ACME"}})), Reason::kIdentityClaimMissing);
  // Identities that cannot be forwarded, and the anonymous directory no token may claim.
  EXPECT_EQ(refusal(*jwt, token({{"userId", "al;ice"}, {"userDirectory", "ACME"}})),
            Reason::kIdentityInvalid);
  EXPECT_EQ(refusal(*jwt, token({{"userId", "a\x01"}, {"userDirectory", "ACME"}})),
            Reason::kIdentityInvalid);
  EXPECT_EQ(refusal(*jwt, token({{"userId", "x"}, {"userDirectory", "AC\\ME"}})),
            Reason::kIdentityInvalid);
  EXPECT_EQ(refusal(*jwt, token({{"userId", "x"}, {"userDirectory", "ANONYMOUS"}})),
            Reason::kIdentityInvalid);
}

TEST_F(JwtAuthenticatorTest, ACachedTokenNamesTheSessionItSignedIn) {
  auto jwt = make();
  const std::string t = alice({{"groups", "g"}});
  auto first = jwt->authenticate(t, kNow);
  ASSERT_TRUE(first.ok());
  jwt->remember_session(*first, 7, "cookie-value");
  auto again = jwt->authenticate(t, kNow + 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->session_handle, 7u);
  EXPECT_EQ(again->session_cookie, "cookie-value");
  EXPECT_EQ(again->credential.user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(again->credential.attributes, (HeaderList{{"X-Groups", "g"}}));
  // Another token of the same user is its own entry.
  auto other = jwt->authenticate(alice({{"jti", "2"}}), kNow);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->session_handle, 0u);
}

TEST_F(JwtAuthenticatorTest, TheCacheNeverAnswersAtOrAfterExp) {
  auto jwt = make();
  const std::string t = alice({{"exp", kNow + 100}});
  auto first = jwt->authenticate(t, kNow);
  ASSERT_TRUE(first.ok());
  jwt->remember_session(*first, 7, "c");
  EXPECT_EQ(jwt->authenticate(t, kNow + 99)->session_handle, 7u);
  // At exp the cache has nothing; verification still accepts it within the leeway (60 s),
  // as a new entry, and refuses it after.
  EXPECT_EQ(jwt->authenticate(t, kNow + 100)->session_handle, 0u);
  EXPECT_EQ(refusal(*jwt, t, kNow + 161), Reason::kTokenExpired);
}

TEST_F(JwtAuthenticatorTest, ATokenWithoutExpIsVerifiedAgainAfterFiveMinutes) {
  auto jwt = make();
  nlohmann::json claims = {{"userId", "alice"}, {"userDirectory", "ACME"}};
  auto signer = jose::load_signing_key(kData + "/keys/rsa_private.pem");
  const std::string t =
      *jose::sign_compact(R"({"alg":"RS256","typ":"JWT"})", claims.dump(), *signer);
  auto first = jwt->authenticate(t, kNow);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  jwt->remember_session(*first, 9, "c");
  EXPECT_EQ(
      jwt->authenticate(t, kNow + JwtAuthenticator::kNoExpiryCacheSeconds - 1)->session_handle, 9u);
  EXPECT_EQ(jwt->authenticate(t, kNow + JwtAuthenticator::kNoExpiryCacheSeconds)->session_handle,
            0u);
}

TEST_F(JwtAuthenticatorTest, WithoutACacheEveryTokenIsVerifiedAndNothingIsRemembered) {
  auto jwt = make(0);
  const std::string t = alice();
  auto first = jwt->authenticate(t, kNow);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->cache_key);
  jwt->remember_session(*first, 7, "c");
  EXPECT_EQ(jwt->authenticate(t, kNow)->session_handle, 0u);
}

TEST_F(JwtAuthenticatorTest, KeyErrorsNameTheirPlace) {
  config::JwtSettings settings;
  settings.providers.resize(1);
  settings.providers[0].key = kData + "/keys/does-not-exist.pem";
  auto missing = JwtAuthenticator::create(settings, "virtual_proxies[2].auth");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, Reason::kFileUnreadable);
  EXPECT_TRUE(missing.error().detail.starts_with("virtual_proxies[2].auth.jwt.key: "))
      << missing.error().detail;
  // An RSA key where only ES256 is allowed: no key serves any algorithm.
  settings.providers[0].key = kData + "/keys/rsa_cert.pem";
  settings.providers[0].verifier.algorithms = {jose::Algorithm::kES256};
  auto unusable = JwtAuthenticator::create(settings, "virtual_proxies[2].auth");
  ASSERT_FALSE(unusable.ok());
  EXPECT_TRUE(unusable.error().detail.starts_with("virtual_proxies[2].auth.jwt: "))
      << unusable.error().detail;
}

// Two providers, chosen by the token's iss: each with its own key, claim rule and forwarded
// claims.
TEST_F(JwtAuthenticatorTest, TheTokensIssuerPicksItsProvider) {
  config::JwtSettings settings;
  settings.by_issuer = true;
  config::JwtProvider corp;
  corp.key = kData + "/keys/rsa_cert.pem";
  corp.verifier.issuer = "https://corp.example";
  corp.forward_claims = {{"groups", "X-Groups"}};
  config::JwtProvider partner;
  partner.key = kData + "/keys/rsa_other_public.pem";
  partner.verifier.issuer = "https://partner.example";
  partner.verifier.user_directory = "PARTNER";
  partner.forward_claims = {{"groups", "X-Partner-Groups"}};
  settings.providers = {corp, partner};
  auto created = JwtAuthenticator::create(settings, "virtual_proxies[0].auth");
  ASSERT_TRUE(created.ok()) << created.error().describe();
  JwtAuthenticator& jwt = **created;
  EXPECT_EQ(jwt.keys_loaded(), 2u);
  EXPECT_EQ(jwt.keys_problem(), "");

  auto from_corp =
      jwt.authenticate(alice({{"iss", "https://corp.example"}, {"groups", "g1"}}), kNow);
  ASSERT_TRUE(from_corp.ok()) << from_corp.error().describe();
  EXPECT_EQ(from_corp->credential.user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(from_corp->credential.attributes, (HeaderList{{"X-Groups", "g1"}}));

  auto from_partner = jwt.authenticate(
      token({{"iss", "https://partner.example"}, {"userId", "bob"}, {"groups", "p"}},
            "rsa_other_private.pem"),
      kNow);
  ASSERT_TRUE(from_partner.ok()) << from_partner.error().describe();
  EXPECT_EQ(from_partner->credential.user, (UserIdentity{"PARTNER", "bob"}));
  EXPECT_EQ(from_partner->credential.attributes, (HeaderList{{"X-Partner-Groups", "p"}}));

  // Signed by corp's key but claiming partner's issuer: partner's key does not verify it.
  EXPECT_EQ(refusal(jwt, alice({{"iss", "https://partner.example"}})), Reason::kSignatureMismatch);
  // An issuer no provider has, a token without iss, an iss that is not a string: no key is
  // tried.
  EXPECT_EQ(refusal(jwt, alice({{"iss", "https://evil.example"}})), Reason::kIssuerUnknown);
  EXPECT_EQ(refusal(jwt, alice()), Reason::kIssuerUnknown);
  EXPECT_EQ(refusal(jwt, alice({{"iss", 7}})), Reason::kIssuerUnknown);
  EXPECT_EQ(refusal(jwt, "garbage"), Reason::kTokenMalformed);
}

// A provider whose key file a reload could not use answers KEYS_UNAVAILABLE; the other goes on.
TEST_F(JwtAuthenticatorTest, OneProviderWithoutKeysLeavesTheOtherWorking) {
  config::JwtSettings settings;
  settings.by_issuer = true;
  config::JwtProvider corp;
  corp.key = kData + "/keys/rsa_cert.pem";
  corp.verifier.issuer = "https://corp.example";
  config::JwtProvider broken;
  broken.verifier.issuer = "https://broken.example";
  broken.keys_problem = "t.yaml:9:14: virtual_proxies[0].auth.jwt.providers[1].key: cannot read";
  settings.providers = {corp, broken};
  auto created = JwtAuthenticator::create(settings, "virtual_proxies[0].auth");
  ASSERT_TRUE(created.ok()) << created.error().describe();
  JwtAuthenticator& jwt = **created;
  EXPECT_EQ(jwt.keys_loaded(), 1u);
  EXPECT_EQ(jwt.keys_problem(), "issuer https://broken.example: " + broken.keys_problem);
  EXPECT_TRUE(jwt.authenticate(alice({{"iss", "https://corp.example"}}), kNow).ok());
  EXPECT_EQ(refusal(jwt, alice({{"iss", "https://broken.example"}})), Reason::kKeysUnavailable);
}

}  // namespace
}  // namespace jotgate::auth
