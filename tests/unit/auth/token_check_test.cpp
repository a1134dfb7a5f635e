// The token workbench's diagnosis (Gate::check_token): each failing check gives the exact code,
// later checks still run, and the verdict is the one the gate itself gives the same token.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "access/access_store.h"
#include "auth/gate.h"
#include "auth/revocations.h"
#include "config/gateway_config.h"
#include "fake_request.h"
#include "jose/jws.h"
#include "jose/key.h"

namespace jotgate::auth {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr UnixSeconds kNow = 1'800'000'000;

std::string data(std::string_view file) {
  return std::string(JOTGATE_TEST_DATA) + "/" + std::string(file);
}

class TokenCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-token-check-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    signer_ = std::make_unique<jose::Key>(*jose::load_signing_key(data("keys/rsa_private.pem")));
    other_ =
        std::make_unique<jose::Key>(*jose::load_signing_key(data("keys/rsa_other_private.pem")));
  }
  void TearDown() override {
    gates_.reset();
    fs::remove_all(dir_);
  }

  // Virtual proxy "jwt" with the keys of jwks.json (kid rsa-1 for the RSA key), an issuer, an
  // audience, a required claim and 30 s of leeway; alice is allocated, no seat is left.
  void start(const std::string& method_settings = "", const std::string& access = "") {
    const std::string yaml =
        "data_dir: data\nlisteners:\n  - name: http\n    address: 127.0.0.1:8080\n"
        "virtual_proxies:\n  - name: A\n    prefix: jwt\n    listeners: [http]\n"
        "    upstreams: [http://127.0.0.1:9000]\n" +
        (method_settings.empty()
             ? "    auth:\n      method: jwt\n      jwt:\n        key: " + data("keys/jwks.json") +
                   "\n        issuer: https://idp.example\n        audience: app\n"
                   "        leeway: 30s\n        algorithms: [RS256, ES256]\n"
                   "        required_claims: [sid]\n"
             : method_settings) +
        (access.empty() ? "access: { allocations: [\"ACME\\\\alice\"] }\n" : access);
    auto config = config::parse_config(yaml, "t.yaml", dir_.string());
    ASSERT_TRUE(config.ok()) << config.error().describe();
    config_ = *config;
    auto gates = GateSet::create(config_, clock_);
    ASSERT_TRUE(gates.ok()) << gates.error().describe();
    gates_ = std::move(*gates);
  }

  static json good_claims() {
    return {{"iss", "https://idp.example"},
            {"aud", "app"},
            {"sid", "s-1"},
            {"userId", "alice"},
            {"userDirectory", "ACME"},
            {"exp", kNow + 3600},
            {"nbf", kNow - 10},
            {"iat", kNow - 10},
            {"jti", "j-1"}};
  }
  std::string token(const json& claims, const jose::Key* key = nullptr,
                    const std::string& header = R"({"alg":"RS256","kid":"rsa-1"})") {
    auto signed_token = jose::sign_compact(header, claims.dump(), key ? *key : *signer_);
    EXPECT_TRUE(signed_token.ok());
    return *signed_token;
  }
  static json with(json claims, const std::string& name, const json& value) {
    if (value.is_null()) {
      claims.erase(name);
    } else {
      claims[name] = value;
    }
    return claims;
  }

  TokenCheck check_token(const std::string& t) { return gates_->gate(0).check_token(t); }
  // What the gate itself answers a request carrying the token (after the check: the check must
  // not change it).
  Decision gateway(const std::string& t) {
    return gates_->gate(0).check(FakeRequest().with("Authorization", "Bearer " + t));
  }

  // The failed checks, by name and code, in order.
  static std::vector<std::string> failures(const TokenCheck& check) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kCheckStepCount; ++i) {
      const auto& outcome = check.steps[i];
      if (outcome.passed == false) {
        out.push_back(std::string(check_step_name(static_cast<CheckStep>(i))) + " " +
                      std::string(reason_code(*outcome.reason)));
      }
    }
    return out;
  }
  // The check's verdict is the gate's answer to the same token.
  void expect_same_verdict(const TokenCheck& check, const std::string& t) {
    const Decision d = gateway(t);
    EXPECT_EQ(check.accepted, d.allowed);
    if (d.allowed) return;
    ASSERT_TRUE(check.reason.has_value());
    EXPECT_EQ(reason_code(*check.reason), reason_code(d.reason));
    EXPECT_EQ(check.status, d.refusal.status);
  }

  fs::path dir_;
  FixedClock clock_{kNow};
  std::unique_ptr<jose::Key> signer_;
  std::unique_ptr<jose::Key> other_;
  config::GatewayConfig config_;
  std::unique_ptr<GateSet> gates_;
};

TEST_F(TokenCheckTest, GoodTokenPassesEveryCheckAndIsAccepted) {
  start();
  const std::string t = token(good_claims());
  const TokenCheck check = check_token(t);
  for (std::size_t i = 0; i < kCheckStepCount; ++i) {
    EXPECT_EQ(check.steps[i].passed, std::optional<bool>(true))
        << check_step_name(static_cast<CheckStep>(i)) << ": " << check.steps[i].detail;
  }
  EXPECT_TRUE(check.accepted);
  EXPECT_EQ(check.status, 200);
  EXPECT_FALSE(check.reason.has_value());
  EXPECT_EQ(check.message, "signed in as ACME\\alice");
  EXPECT_EQ(check.header, json::parse(R"({"alg":"RS256","kid":"rsa-1"})"));
  EXPECT_EQ(check.claims, good_claims());
  EXPECT_EQ(check.step(CheckStep::kExp).detail, "valid until 2027-01-15T09:00:00Z (leeway 30 s)");
  EXPECT_EQ(check.step(CheckStep::kKey).detail, "a key with kid \"rsa-1\" fits RS256");
  // Nothing was cached: the gate verifies the token itself.
  const Decision d = gateway(t);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.token_cache, TokenCacheLookup::kMiss);
}

TEST_F(TokenCheckTest, ExpiredTokenFailsExpWithTokenExpiredAndTheLeeway) {
  start();
  // Expired 31 s ago: past the 30 s leeway.
  const std::string t = token(with(good_claims(), "exp", kNow - 30));
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), std::vector<std::string>{"exp TOKEN_EXPIRED"});
  EXPECT_EQ(check.step(CheckStep::kExp).detail,
            "expired at 2027-01-15T07:59:30Z, now 2027-01-15T08:00:00Z (leeway 30 s)");
  EXPECT_EQ(check.status, 401);
  EXPECT_EQ(check.message, "Could not authenticate the request: the token has expired");
  expect_same_verdict(check, t);
  // Within the leeway it passes.
  EXPECT_EQ(check_token(token(with(good_claims(), "exp", kNow - 29))).step(CheckStep::kExp).passed,
            std::optional<bool>(true));
}

TEST_F(TokenCheckTest, NotYetValidAndMalformedIat) {
  start();
  const std::string t = token(with(with(good_claims(), "nbf", kNow + 31), "iat", "yesterday"));
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check),
            (std::vector<std::string>{"nbf TOKEN_NOT_YET_VALID", "iat CLAIM_MALFORMED"}));
  // The gateway reads every date's type first.
  EXPECT_EQ(reason_code(*check.reason), "CLAIM_MALFORMED");
  expect_same_verdict(check, t);
}

TEST_F(TokenCheckTest, OtherKeyFailsSignatureAndTheClaimsAreStillChecked) {
  start();
  const std::string t = token(with(good_claims(), "aud", "other-app"), other_.get());
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), (std::vector<std::string>{"signature SIGNATURE_MISMATCH",
                                                       "audience AUDIENCE_MISMATCH"}));
  EXPECT_EQ(check.step(CheckStep::kAudience).detail, "the audience must include one of: app");
  EXPECT_EQ(reason_code(*check.reason), "SIGNATURE_MISMATCH");
  EXPECT_EQ(check.claims->at("aud"), "other-app");  // decoded though the signature is bad
  expect_same_verdict(check, t);
}

TEST_F(TokenCheckTest, AlgorithmNotAllowedAndAlgNone) {
  start();
  const std::string t = token(good_claims(), nullptr, R"({"alg":"RS384","kid":"rsa-1"})");
  TokenCheck check = check_token(t);
  // The key of kid rsa-1 is declared for RS256 only (its JWK "alg"): that shows too.
  EXPECT_EQ(failures(check),
            (std::vector<std::string>{"algorithm ALG_NOT_ALLOWED", "key NO_MATCHING_KEY"}));
  EXPECT_EQ(reason_code(*check.reason), "ALG_NOT_ALLOWED");
  EXPECT_EQ(check.step(CheckStep::kAlgorithm).detail, "RS384 is not among the allowed algorithms");
  expect_same_verdict(check, t);

  const std::string none =
      "eyJhbGciOiJub25lIn0." + t.substr(t.find('.') + 1, t.rfind('.') - t.find('.'));
  check = check_token(none);
  EXPECT_EQ(check.step(CheckStep::kFormat).passed, std::optional<bool>(true));
  EXPECT_EQ(reason_code(*check.step(CheckStep::kAlgorithm).reason), "ALG_NONE");
  EXPECT_EQ(check.step(CheckStep::kSignature).passed, std::nullopt);
  EXPECT_EQ(check.step(CheckStep::kExp).passed, std::optional<bool>(true));
  expect_same_verdict(check, none);
}

TEST_F(TokenCheckTest, UnknownKidAndAlgorithmConfusion) {
  start();
  const std::string t = token(good_claims(), other_.get(), R"({"alg":"RS256","kid":"nobody"})");
  TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), std::vector<std::string>{"key NO_MATCHING_KEY"});
  EXPECT_EQ(check.step(CheckStep::kSignature).passed, std::nullopt);
  expect_same_verdict(check, t);

  // ES256 is allowed, but no EC key has the kid rsa-1: the wrong key type for it.
  const jose::Key ec = *jose::load_signing_key(data("keys/ec_p256_private.pem"));
  const std::string confused = token(good_claims(), &ec, R"({"alg":"ES256","kid":"rsa-1"})");
  check = check_token(confused);
  EXPECT_EQ(failures(check), std::vector<std::string>{"key NO_MATCHING_KEY"});
  expect_same_verdict(check, confused);
}

TEST_F(TokenCheckTest, WrongIssuerMissingRequiredAndIdentityClaims) {
  start();
  const std::string t = token(
      with(with(with(good_claims(), "iss", "https://evil.example"), "sid", nullptr), "userId", 7));
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), (std::vector<std::string>{"issuer ISSUER_MISMATCH",
                                                       "required_claims REQUIRED_CLAIM_MISSING",
                                                       "identity IDENTITY_CLAIM_MISSING"}));
  EXPECT_EQ(check.step(CheckStep::kRequiredClaims).detail, "the claim \"sid\" is missing");
  EXPECT_EQ(check.step(CheckStep::kIdentity).detail,
            "the claim \"userId\" is missing or not a string");
  EXPECT_EQ(check.step(CheckStep::kRevocation).passed, std::nullopt);  // no user to look up
  EXPECT_EQ(check.step(CheckStep::kAllocation).passed, std::nullopt);
  expect_same_verdict(check, t);
}

TEST_F(TokenCheckTest, AnonymousDirectoryIsIdentityInvalid) {
  start();
  const std::string t = token(with(good_claims(), "userDirectory", "ANONYMOUS"));
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), std::vector<std::string>{"identity IDENTITY_INVALID"});
  EXPECT_EQ(check.step(CheckStep::kIdentity).detail,
            "the directory ANONYMOUS is reserved for anonymous users");
  expect_same_verdict(check, t);
}

TEST_F(TokenCheckTest, RevokedJtiAndRevokedUser) {
  start();
  access::Revocation by_jti;
  by_jti.jti = "j-1";
  by_jti.revoked_at = kNow;
  ASSERT_TRUE(gates_->revocations().add(by_jti).ok());
  const std::string t = token(good_claims());
  TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), std::vector<std::string>{"revocation TOKEN_REVOKED"});
  EXPECT_EQ(check.step(CheckStep::kRevocation).detail, "the token's jti j-1 is revoked");
  EXPECT_EQ(check.message, "Could not authenticate the request: the token has been revoked");
  expect_same_verdict(check, t);

  access::Revocation by_user;
  by_user.kind = access::Revocation::Kind::kUser;
  by_user.user = {"ACME", "alice"};
  by_user.revoked_at = kNow;
  ASSERT_TRUE(gates_->revocations().add(by_user).ok());
  const std::string other_jti = token(with(good_claims(), "jti", "j-2"));
  check = check_token(other_jti);
  EXPECT_EQ(failures(check), std::vector<std::string>{"revocation TOKEN_REVOKED"});
  EXPECT_EQ(check.step(CheckStep::kRevocation).detail,
            "the user's tokens issued until their revocation are revoked");
  expect_same_verdict(check, other_jti);
}

TEST_F(TokenCheckTest, UserWithoutAllocationIsAccessDenied) {
  start();
  const std::string t = token(with(good_claims(), "userId", "carol"));
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), std::vector<std::string>{"allocation ACCESS_DENIED"});
  EXPECT_EQ(check.status, 403);
  EXPECT_EQ(check.message, "Access denied: ACME\\carol has no access allocation");
  expect_same_verdict(check, t);
}

TEST_F(TokenCheckTest, AFreeSeatWouldBeTakenButIsNot) {
  start("", "access: { auto_allocate_seats: 1 }\n");
  const std::string t = token(with(good_claims(), "userId", "dave"));
  const TokenCheck check = check_token(t);
  EXPECT_TRUE(check.accepted);
  EXPECT_EQ(check.step(CheckStep::kAllocation).detail,
            "ACME\\dave has no allocation and would take a seat (access.auto_allocate_seats)");
  // The seat is still free for someone else.
  const std::string erin = token(with(good_claims(), "userId", "erin"));
  EXPECT_TRUE(gateway(erin).allowed);
  EXPECT_EQ(check_token(t).step(CheckStep::kAllocation).passed, std::optional<bool>(false));
}

TEST_F(TokenCheckTest, MalformedTokensFailFormat) {
  start();
  for (const auto& [text, code] :
       std::vector<std::pair<std::string, std::string>>{{"not-a-token", "TOKEN_MALFORMED"},
                                                        {"a.b.c.d.e", "TOKEN_ENCRYPTED"},
                                                        {"e30.e30.!!", "BASE64URL_MALFORMED"},
                                                        {"WzFd.e30.", "HEADER_NOT_JSON_OBJECT"}}) {
    const TokenCheck check = check_token(text);
    EXPECT_EQ(failures(check).front(), "format " + code) << text;
    expect_same_verdict(check, text);
  }
  // A token whose signature part is broken still shows its claims.
  const std::string t = token(good_claims());
  const TokenCheck broken = check_token(t.substr(0, t.rfind('.')) + ".!");
  EXPECT_EQ(broken.claims, good_claims());
  EXPECT_EQ(broken.step(CheckStep::kExp).passed, std::optional<bool>(true));
  EXPECT_FALSE(check_token("not-a-token").header.has_value());
}

TEST_F(TokenCheckTest, VirtualProxyWithoutTokensSaysCredentialsNotAccepted) {
  start("    auth:\n      method: ticket\n");
  const std::string t = token(good_claims());
  const TokenCheck check = check_token(t);
  EXPECT_EQ(reason_code(*check.reason), "CREDENTIALS_NOT_ACCEPTED");
  EXPECT_EQ(check.status, 401);
  EXPECT_EQ(check.step(CheckStep::kSignature).passed, std::nullopt);
  EXPECT_EQ(check.claims, good_claims());
}

TEST_F(TokenCheckTest, ProvidersByIssuerUnknownIssuer) {
  start(
      "    auth:\n      method: jwt\n      jwt:\n        providers:\n"
      "          - issuer: https://idp.example\n            key: " +
      data("keys/jwks.json") + "\n");
  const std::string t = token(with(good_claims(), "iss", "https://else.example"));
  const TokenCheck check = check_token(t);
  EXPECT_EQ(failures(check), std::vector<std::string>{"issuer ISSUER_UNKNOWN"});
  EXPECT_EQ(check.step(CheckStep::kIssuer).detail,
            "no identity provider of auth.jwt.providers has the issuer \"https://else.example\"");
  expect_same_verdict(check, t);
  EXPECT_TRUE(check_token(token(good_claims())).accepted);
}

}  // namespace
}  // namespace jotgate::auth
