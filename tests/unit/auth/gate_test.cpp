// Gate, end to end without sockets: tokens signed in the test, a fake request view, a pinned
// clock, the allocations database in a temporary folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "access/access_store.h"
#include "auth/gate.h"
#include "auth/session_admin.h"
#include "config/gateway_config.h"
#include "fake_request.h"
#include "jose/jws.h"
#include "jose/key.h"

namespace jotgate::auth {
namespace {

namespace fs = std::filesystem;

std::string header_of(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "<none>";
}

// "name=value" of a Set-Cookie.
std::string cookie_pair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

constexpr UnixSeconds kNow = 1'800'000'000;

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-gate-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    signer_ = std::make_unique<jose::Key>(
        *jose::load_signing_key(std::string(JOTGATE_TEST_DATA) + "/keys/rsa_private.pem"));
  }
  void TearDown() override {
    gates_.reset();
    fs::remove_all(dir_);
  }

  static constexpr std::string_view kAliceAndBob =
      "access: { allocations: [\"ACME\\\\alice\", \"ACME\\\\bob\"] }\n";

  // The test configuration: virtual proxy "jwt" with `vp_extra` (its further keys), then `access`.
  std::string yaml_of(const std::string& vp_extra, std::string_view access) const {
    return "data_dir: data\nlisteners:\n  - name: http\n    address: 127.0.0.1:8080\n"
           "virtual_proxies:\n  - name: A\n    prefix: jwt\n    listeners: [http]\n"
           "    upstreams: [http://127.0.0.1:9000]\n"
           "    auth:\n      method: jwt\n      jwt:\n        key: " +
           std::string(JOTGATE_TEST_DATA) +
           "/keys/rsa_cert.pem\n        forward_claims: { groups: X-Groups, email: X-Email, "
           "level: X-Level }\n" +
           vp_extra + std::string(access);
  }

  void start(const std::string& vp_extra = "", std::string_view access = kAliceAndBob) {
    auto config = config::parse_config(yaml_of(vp_extra, access), "t.yaml", dir_.string());
    ASSERT_TRUE(config.ok()) << config.error().detail;
    config_ = *config;
    auto gates = GateSet::create(config_, clock_);
    ASSERT_TRUE(gates.ok()) << gates.error().describe();
    gates_ = std::move(*gates);
  }

  std::string token(nlohmann::json claims) {
    if (!claims.contains("exp")) claims["exp"] = kNow + 3600;
    auto signed_token =
        jose::sign_compact(R"({"alg":"RS256","typ":"JWT"})", claims.dump(), *signer_);
    EXPECT_TRUE(signed_token.ok());
    return *signed_token;
  }
  std::string alice_token() { return token({{"userId", "alice"}, {"userDirectory", "ACME"}}); }

  Decision check(const FakeRequest& request) { return gates_->gate(0).check(request); }

  fs::path dir_;
  FixedClock clock_{kNow};
  std::unique_ptr<jose::Key> signer_;
  config::GatewayConfig config_;
  std::unique_ptr<GateSet> gates_;
};

TEST_F(GateTest, NoCredentialsIs401WithRealmAndTheKnownSentence) {
  start();
  auto d = check(FakeRequest());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.refusal.status, 401);
  EXPECT_EQ(d.reason, Reason::kNoCredentials);
  EXPECT_EQ(header_of(d.refusal.headers, "WWW-Authenticate"), "Bearer realm=\"jwt\"");
  EXPECT_EQ(d.refusal.body,
            "Could not authenticate the request: Expected an authentication header");
  auto json = check(FakeRequest().with("Accept", "text/html, application/json;q=0.9"));
  EXPECT_EQ(header_of(json.refusal.headers, "Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(json.refusal.body)["error"], "NO_CREDENTIALS");
  // Another scheme is no credentials too.
  EXPECT_EQ(check(FakeRequest().with("Authorization", "Basic YTpi")).reason,
            Reason::kNoCredentials);
}

TEST_F(GateTest, ValidTokenIsAllowedWithIdentityClaimsAndASessionCookie) {
  start();
  const std::string t = token({{"userId", "alice"},
                               {"userDirectory", "ACME"},
                               {"groups", {"g1", "g2"}},
                               {"email", "a@x\r\n"},
                               {"level", 3}});
  auto d = check(FakeRequest().with("Authorization", "bEaReR " + t).with("Cookie", "other=1"));
  ASSERT_TRUE(d.allowed) << d.refusal.body;
  EXPECT_EQ(d.user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(header_of(d.upstream_headers, "X-Jotgate-User"), "UserDirectory=ACME; UserId=alice");
  EXPECT_EQ(header_of(d.upstream_headers, "X-Groups"), "g1,g2");
  EXPECT_EQ(header_of(d.upstream_headers, "X-Email"), "a@x");
  EXPECT_EQ(header_of(d.upstream_headers, "X-Level"), "3");
  ASSERT_TRUE(d.set_cookie);
  EXPECT_TRUE(d.set_cookie->starts_with("X-Jotgate-Session-jwt="));
  EXPECT_NE(d.set_cookie->find("; Path=/jwt; HttpOnly; SameSite=Lax"), std::string::npos);
  EXPECT_EQ(d.set_cookie->find("Secure"), std::string::npos);  // auto, plain listener
  EXPECT_EQ(d.upstream_cookie, std::optional<std::string>("other=1"));
  EXPECT_NE(d.session_handle, 0u);
  EXPECT_EQ(d.set_cookie->find(t), std::string::npos);
  FakeRequest tls;
  tls.tls_ = true;
  tls.with("Authorization", "Bearer " + t);
  EXPECT_NE(check(tls).set_cookie->find("; Secure"), std::string::npos);
}

TEST_F(GateTest, SameSiteNoneCookiesArePartitionedOnTls) {
  start("    session: { same_site: none }\n");
  FakeRequest tls;
  tls.tls_ = true;
  auto d = check(tls.with("Authorization", "Bearer " + alice_token()));
  ASSERT_TRUE(d.set_cookie);
  EXPECT_NE(d.set_cookie->find("; Secure; SameSite=None; Partitioned"), std::string::npos)
      << *d.set_cookie;
}

TEST_F(GateTest, CookieAloneIsEnoughAndIsNotForwarded) {
  start();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  ASSERT_TRUE(first.allowed);
  const std::string cookie = cookie_pair(*first.set_cookie);
  auto again = check(FakeRequest().with("Cookie", "a=1; " + cookie).with("Cookie", "b=2"));
  ASSERT_TRUE(again.allowed);
  EXPECT_FALSE(again.set_cookie);
  EXPECT_EQ(again.session_handle, first.session_handle);
  EXPECT_EQ(header_of(again.upstream_headers, "X-Jotgate-User"),
            "UserDirectory=ACME; UserId=alice");
  EXPECT_EQ(again.upstream_cookie, std::optional<std::string>("a=1; b=2"));
  auto only = check(FakeRequest().with("Cookie", cookie));
  EXPECT_EQ(only.upstream_cookie, std::nullopt);
}

TEST_F(GateTest, ClientChosenSessionIdIsNeverAdopted) {
  start();
  const std::string chosen = "X-Jotgate-Session-jwt=" + std::string(43, 'A');
  EXPECT_EQ(check(FakeRequest().with("Cookie", chosen)).refusal.status, 401);
  auto d =
      check(FakeRequest().with("Cookie", chosen).with("Authorization", "Bearer " + alice_token()));
  ASSERT_TRUE(d.allowed);
  ASSERT_TRUE(d.set_cookie);
  EXPECT_NE(cookie_pair(*d.set_cookie), chosen);
}

TEST_F(GateTest, BadTokensAre401InvalidTokenWithoutEcho) {
  start();
  const std::string good = alice_token();
  std::string flipped = good;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  const std::map<std::string, Reason> cases = {
      {"garbage", Reason::kTokenMalformed},
      {token({{"userId", "alice"}, {"userDirectory", "ACME"}, {"exp", kNow - 3600}}),
       Reason::kTokenExpired},
      {token({{"userDirectory", "ACME"}}), Reason::kIdentityClaimMissing},
      {flipped, Reason::kSignatureMismatch},
  };
  for (const auto& [t, reason] : cases) {
    auto d = check(FakeRequest().with("Authorization", "Bearer " + t));
    EXPECT_EQ(d.refusal.status, 401) << reason_code(reason);
    EXPECT_EQ(d.reason, reason) << reason_code(d.reason);
    const std::string www = header_of(d.refusal.headers, "WWW-Authenticate");
    EXPECT_EQ(www, "Bearer error=\"invalid_token\", error_description=\"" +
                       std::string(reason_message(reason)) + "\"");
    EXPECT_EQ(www.find(t), std::string::npos);
    EXPECT_EQ(d.refusal.body.find(t), std::string::npos);
    EXPECT_FALSE(d.set_cookie);
  }
  auto json = check(
      FakeRequest().with("Authorization", "Bearer garbage").with("Accept", "application/json"));
  auto body = nlohmann::json::parse(json.refusal.body);
  EXPECT_EQ(body["error"], "TOKEN_MALFORMED");
  EXPECT_EQ(check(FakeRequest().with("Authorization", "Bearer ")).refusal.status, 401);
}

TEST_F(GateTest, IdentitiesThatCannotBeForwardedAreRefused) {
  start("", "access: { mode: open }\n");
  for (const char* id : {"al;ice", "al\nice", "a\x01"}) {
    auto d = check(FakeRequest().with(
        "Authorization", "Bearer " + token({{"userId", id}, {"userDirectory", "ACME"}})));
    EXPECT_EQ(d.refusal.status, 401);
    EXPECT_EQ(d.reason, Reason::kIdentityInvalid);
  }
}

TEST_F(GateTest, UserWithoutAllocationIs403) {
  start();
  auto d = check(FakeRequest().with(
      "Authorization", "Bearer " + token({{"userId", "carol"}, {"userDirectory", "ACME"}})));
  EXPECT_EQ(d.refusal.status, 403);
  EXPECT_EQ(d.reason, Reason::kAccessDenied);
  EXPECT_EQ(d.refusal.body, "Access denied: ACME\\carol has no access allocation");
  EXPECT_FALSE(d.set_cookie);
}

TEST_F(GateTest, AutoAllocatedSeatsRunOut) {
  start("", "access: { auto_allocate_seats: 1 }\n");
  auto carol = check(FakeRequest().with(
      "Authorization", "Bearer " + token({{"userId", "carol"}, {"userDirectory", "ACME"}})));
  EXPECT_TRUE(carol.allowed);
  auto dave = check(FakeRequest().with(
      "Authorization", "Bearer " + token({{"userId", "dave"}, {"userDirectory", "ACME"}})));
  EXPECT_EQ(dave.refusal.status, 403);
  EXPECT_TRUE(
      check(FakeRequest().with("Authorization",
                               "Bearer " + token({{"userId", "carol"}, {"userDirectory", "ACME"}})))
          .allowed);
}

TEST_F(GateTest, TokenForAnotherUserReplacesTheSession) {
  start();
  auto alice = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string alice_cookie = cookie_pair(*alice.set_cookie);
  auto bob = check(FakeRequest()
                       .with("Cookie", alice_cookie)
                       .with("Authorization",
                             "Bearer " + token({{"userId", "bob"}, {"userDirectory", "ACME"}})));
  ASSERT_TRUE(bob.allowed);
  EXPECT_EQ(bob.user.id, "bob");
  ASSERT_TRUE(bob.set_cookie);
  EXPECT_NE(cookie_pair(*bob.set_cookie), alice_cookie);
  EXPECT_EQ(check(FakeRequest().with("Cookie", alice_cookie)).refusal.status,
            401);  // old one ended
  auto with_bob = check(FakeRequest().with("Cookie", cookie_pair(*bob.set_cookie)));
  EXPECT_EQ(with_bob.user.id, "bob");
  // The same user's token with its own cookie keeps the session.
  auto same = check(FakeRequest()
                        .with("Cookie", cookie_pair(*bob.set_cookie))
                        .with("Authorization",
                              "Bearer " + token({{"userId", "bob"}, {"userDirectory", "ACME"}})));
  EXPECT_FALSE(same.set_cookie);
  EXPECT_EQ(same.session_handle, bob.session_handle);
}

TEST_F(GateTest, RepeatedTokenWithoutCookieRidesOnTheSessionItSignedIn) {
  start();
  const std::string t = alice_token();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + t));
  ASSERT_TRUE(first.allowed);
  ASSERT_TRUE(first.set_cookie);
  auto again = check(FakeRequest().with("Authorization", "Bearer " + t));
  ASSERT_TRUE(again.allowed);
  EXPECT_EQ(again.session_handle, first.session_handle);
  ASSERT_TRUE(again.set_cookie);  // the first session's cookie again, not a new session
  EXPECT_EQ(cookie_pair(*again.set_cookie), cookie_pair(*first.set_cookie));
  EXPECT_EQ(header_of(again.upstream_headers, "X-Jotgate-User"),
            "UserDirectory=ACME; UserId=alice");
  // Another token of the same user is verified on its own and gets its own session.
  auto other = check(FakeRequest().with(
      "Authorization",
      "Bearer " + token({{"userId", "alice"}, {"userDirectory", "ACME"}, {"jti", "2"}})));
  ASSERT_TRUE(other.allowed);
  EXPECT_NE(other.session_handle, first.session_handle);
}

TEST_F(GateTest, CachedTokenIsNotUsedAtOrAfterItsExp) {
  start("    session: { inactivity_timeout: 1h }\n");
  const std::string t =
      token({{"userId", "alice"}, {"userDirectory", "ACME"}, {"exp", kNow + 100}});
  ASSERT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + t)).allowed);
  clock_.set(kNow + 99);
  EXPECT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + t)).allowed);
  // Past exp + leeway (60 s): the cache no longer answers, and verification refuses it.
  clock_.set(kNow + 161);
  auto late = check(FakeRequest().with("Authorization", "Bearer " + t));
  EXPECT_EQ(late.refusal.status, 401);
  EXPECT_EQ(late.reason, Reason::kTokenExpired);
}

TEST_F(GateTest, TamperedCopyOfACachedTokenIsRefused) {
  start();
  const std::string t = alice_token();
  ASSERT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + t)).allowed);
  std::string tampered = t;
  char& c = tampered[tampered.size() - 10];  // inside the signature
  c = c == 'A' ? 'B' : 'A';
  auto d = check(FakeRequest().with("Authorization", "Bearer " + tampered));
  EXPECT_EQ(d.refusal.status, 401);
  EXPECT_EQ(d.reason, Reason::kSignatureMismatch);
}

TEST_F(GateTest, RepeatedTokenAfterItsSessionExpiredSignsInAgain) {
  start("    session: { inactivity_timeout: 60s }\n");
  const std::string t = alice_token();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + t));
  clock_.set(kNow + 61);
  auto again = check(FakeRequest().with("Authorization", "Bearer " + t));
  ASSERT_TRUE(again.allowed);
  EXPECT_NE(again.session_handle, first.session_handle);
  ASSERT_TRUE(again.set_cookie);
  EXPECT_NE(cookie_pair(*again.set_cookie), cookie_pair(*first.set_cookie));
}

TEST_F(GateTest, RevokedUserIsDeniedEvenWithACachedToken) {
  start();
  const std::string t = alice_token();
  ASSERT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + t)).allowed);
  gates_->maintain();
  {
    auto other = access::AccessStore::open(config_.data_dir);
    ASSERT_TRUE(*(*other)->revoke({"ACME", "alice"}));
  }
  gates_->maintain();
  EXPECT_EQ(check(FakeRequest().with("Authorization", "Bearer " + t)).refusal.status, 403);
}

TEST_F(GateTest, WithoutTheCacheEveryRequestIsVerifiedAndStillAllowed) {
  start();
  config_.virtual_proxies[0].auth.jwt.token_cache = 0;
  gates_.reset();
  auto gates = GateSet::create(config_, clock_);
  ASSERT_TRUE(gates.ok());
  gates_ = std::move(*gates);
  const std::string t = alice_token();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + t));
  auto again = check(FakeRequest().with("Authorization", "Bearer " + t));
  ASSERT_TRUE(first.allowed);
  ASSERT_TRUE(again.allowed);
  ASSERT_TRUE(again.set_cookie);  // no cache: nothing links the token to its first session
  EXPECT_NE(again.session_handle, first.session_handle);
}

TEST_F(GateTest, InactivityExpiryAndTouch) {
  start("    session: { inactivity_timeout: 60s }\n");
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  clock_.set(kNow + 50);
  gates_->gate(0).touch(first.session_handle);
  clock_.set(kNow + 100);
  EXPECT_TRUE(check(FakeRequest().with("Cookie", cookie)).allowed);
  clock_.set(kNow + 161);
  auto expired = check(FakeRequest().with("Cookie", cookie));
  EXPECT_EQ(expired.refusal.status, 401);
  EXPECT_EQ(header_of(expired.refusal.headers, "WWW-Authenticate"), "Bearer realm=\"jwt\"");
}

TEST_F(GateTest, RevocationByAnotherProcessEndsSessions) {
  start();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  gates_->maintain();
  {
    auto other = access::AccessStore::open(config_.data_dir);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(*(*other)->revoke({"ACME", "alice"}));
    auto list = (*other)->list();
    ASSERT_EQ(list->size(), 1u);  // bob remains
  }
  gates_->maintain();
  EXPECT_EQ(check(FakeRequest().with("Cookie", cookie)).refusal.status, 401);
  EXPECT_EQ(check(FakeRequest().with("Authorization", "Bearer " + alice_token())).refusal.status,
            403);
}

TEST_F(GateTest, LastUseIsRecordedByMaintain) {
  start();
  ASSERT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + alice_token())).allowed);
  gates_->maintain();
  auto store = access::AccessStore::open(config_.data_dir);
  auto list = (*store)->list();
  for (const auto& a : *list) {
    if (a.user.id == "alice") {
      EXPECT_EQ(a.last_used_at, std::optional<UnixSeconds>(kNow));
    } else {
      EXPECT_FALSE(a.last_used_at);
    }
  }
}

TEST_F(GateTest, ReservedHeaders) {
  start();
  const auto& reserved = gates_->gate(0).reserved_request_headers();
  for (const char* name : {"X-Jotgate-User", "X-Groups", "X-Email", "X-Level", "Authorization"}) {
    EXPECT_NE(std::find(reserved.begin(), reserved.end(), name), reserved.end()) << name;
  }
}

TEST_F(GateTest, TwoAuthorizationHeadersAre400WithoutAChallenge) {
  start();
  const std::string bearer = "Bearer " + alice_token();
  auto d = check(FakeRequest().with("Authorization", bearer).with("Authorization", bearer));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.refusal.status, 400);
  EXPECT_EQ(d.reason, Reason::kAuthorizationRepeated);
  EXPECT_EQ(d.refusal.body, "Bad Request: the request has more than one Authorization header");
  EXPECT_EQ(header_of(d.refusal.headers, "WWW-Authenticate"), "<none>");
  EXPECT_FALSE(d.set_cookie);
}

TEST_F(GateTest, ForwardAuthorizationCarriesOnlyTheVerifiedBearer) {
  start("        forward_authorization: true\n");
  const std::string bearer = "Bearer " + alice_token();
  auto signed_in = check(FakeRequest().with("Authorization", bearer));
  ASSERT_TRUE(signed_in.allowed) << signed_in.refusal.body;
  EXPECT_EQ(header_of(signed_in.upstream_headers, "Authorization"), bearer);
  // Signed in by the cookie: the Authorization next to it was never verified.
  auto by_cookie = check(FakeRequest()
                             .with("Cookie", cookie_pair(*signed_in.set_cookie))
                             .with("Authorization", "Basic YWRtaW46YWRtaW4="));
  ASSERT_TRUE(by_cookie.allowed) << by_cookie.refusal.body;
  EXPECT_EQ(header_of(by_cookie.upstream_headers, "Authorization"), "<none>");
}

TEST_F(GateTest, ATicketSignsInOnceAndNeverAfterItsLifetime) {
  start("      ticket_lifetime: 30s\n      forward_attributes: { team: X-Team }\n");
  SessionAdmin& admin = gates_->admin();
  auto vp = admin.find_virtual_proxy("jwt");
  ASSERT_TRUE(vp);
  EXPECT_FALSE(admin.find_virtual_proxy("nope"));
  EXPECT_FALSE(admin.find_virtual_proxy("~"));  // no virtual proxy at the root here
  auto issued = admin.issue_ticket(*vp, {{"ACME", "alice"}, {{"team", "red"}}, "/jwt/app"});
  ASSERT_TRUE(issued.ok()) << issued.error().describe();
  EXPECT_EQ(issued->expires_at, kNow + 30);
  EXPECT_EQ(issued->ticket.size(), 43u);
  auto d = gates_->gate(0).redeem_ticket(FakeRequest(), issued->ticket);
  ASSERT_TRUE(d.allowed) << d.refusal.body;
  EXPECT_EQ(header_of(d.upstream_headers, "X-Team"), "red");
  ASSERT_TRUE(d.set_cookie);
  // Once only.
  auto again = gates_->gate(0).redeem_ticket(FakeRequest(), issued->ticket);
  EXPECT_FALSE(again.allowed);
  EXPECT_EQ(again.reason, Reason::kTicketInvalid);
  EXPECT_EQ(again.refusal.status, 401);
  // Not after its lifetime, and not a made-up one.
  auto late = admin.issue_ticket(*vp, {{"ACME", "bob"}, {}, ""});
  ASSERT_TRUE(late.ok());
  clock_.set(kNow + 30);
  EXPECT_EQ(gates_->gate(0).redeem_ticket(FakeRequest(), late->ticket).reason,
            Reason::kTicketInvalid);
  EXPECT_EQ(gates_->gate(0).redeem_ticket(FakeRequest(), std::string(43, 'A')).reason,
            Reason::kTicketInvalid);
}

TEST_F(GateTest, TicketRequestsAreCheckedFieldByField) {
  start("      forward_attributes: { team: X-Team }\n");
  SessionAdmin& admin = gates_->admin();
  auto outside = admin.issue_ticket(0, {{"ACME", "alice"}, {}, "/other/app"});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().field, "targetUri");
  EXPECT_EQ(outside.error().detail,
            "must be a path under /jwt/ (the virtual proxy the ticket is for)");
  for (const char* uri : {"https://evil.test/jwt/", "//evil.test/jwt/", "/jwtx", "/jwt\\x",
                          "/jwt/../other", "/jwt/..", "/jwt/./a"}) {
    EXPECT_FALSE(admin.issue_ticket(0, {{"ACME", "alice"}, {}, uri}).ok()) << uri;
  }
  for (const char* uri : {"/jwt", "/jwt/", "/jwt?x=1", "/jwt/a/b", "/jwt/a..b/.c?x=/../"}) {
    EXPECT_TRUE(admin.issue_ticket(0, {{"ACME", "alice"}, {}, uri}).ok()) << uri;
  }
  auto attribute = admin.issue_ticket(0, {{"ACME", "alice"}, {{"role", "admin"}}, ""});
  ASSERT_FALSE(attribute.ok());
  EXPECT_EQ(attribute.error().field, "attributes.role");
  EXPECT_TRUE(attribute.error().detail.starts_with("not an attribute this virtual proxy forwards"))
      << attribute.error().detail;
  EXPECT_EQ(admin.issue_ticket(0, {{"ACME", "mallory"}, {}, ""}).error().reason,
            Reason::kAccessDenied);
  EXPECT_EQ(admin.issue_ticket(0, {{"ANONYMOUS", "x"}, {}, ""}).error().reason,
            Reason::kIdentityInvalid);
  EXPECT_EQ(admin.issue_ticket(0, {{"AC;ME", "x"}, {}, ""}).error().reason,
            Reason::kIdentityInvalid);
}

TEST_F(GateTest, TheSessionApiCreatesListsAndEndsSessions) {
  start();
  SessionAdmin& admin = gates_->admin();
  auto created = admin.create_session(0, {"ACME", "alice"}, {});
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_EQ(created->cookie_name, "X-Jotgate-Session-jwt");
  EXPECT_EQ(created->virtual_proxy, "jwt");
  // The cookie works at the gate.
  auto d = check(FakeRequest().with("Cookie", created->cookie_name + "=" + created->id));
  ASSERT_TRUE(d.allowed) << d.refusal.body;
  EXPECT_EQ(d.user, (UserIdentity{"ACME", "alice"}));
  auto second = admin.create_session(0, {"ACME", "alice"}, {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(admin.user_sessions({"ACME", "alice"}).size(), 2u);
  EXPECT_TRUE(admin.user_sessions({"ACME", "bob"}).empty());
  auto found = admin.find_session(0, created->id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user, (UserIdentity{"ACME", "alice"}));
  EXPECT_TRUE(admin.end_session(0, created->id));
  EXPECT_FALSE(admin.end_session(0, created->id));
  EXPECT_FALSE(admin.find_session(0, created->id));
  EXPECT_FALSE(
      check(FakeRequest().with("Cookie", created->cookie_name + "=" + created->id)).allowed);
  EXPECT_EQ(admin.end_user_sessions({"ACME", "alice"}), 1u);
  EXPECT_TRUE(admin.user_sessions({"ACME", "alice"}).empty());
  EXPECT_EQ(admin.create_session(0, {"ACME", "mallory"}, {}).error().reason, Reason::kAccessDenied);
}

TEST_F(GateTest, LiveTicketsAreBoundedPerVirtualProxy) {
  start();
  SessionAdmin& admin = gates_->admin();
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(admin.issue_ticket(0, {{"ACME", "alice"}, {}, ""}).ok()) << i;
  }
  auto refused = admin.issue_ticket(0, {{"ACME", "alice"}, {}, ""});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, Reason::kBadRequest);
  EXPECT_EQ(refused.error().detail, "too many live tickets; try again later");
  // Once they have expired, there is room again.
  clock_.set(kNow + 60);
  EXPECT_TRUE(admin.issue_ticket(0, {{"ACME", "alice"}, {}, ""}).ok());
}

// A new GateSet on the same data_dir, as `serve` builds one at its next start.
std::unique_ptr<GateSet> restart(const config::GatewayConfig& config, const Clock& clock) {
  auto gates = GateSet::create(config, clock);
  EXPECT_TRUE(gates.ok()) << gates.error().describe();
  (*gates)->restore_sessions();
  return std::move(*gates);
}

TEST_F(GateTest, SessionsSurviveARestartWithTheirClaims) {
  start("    session: { inactivity_timeout: 60s }\n");
  auto first =
      check(FakeRequest().with("Authorization", "Bearer " + token({{"userId", "alice"},
                                                                   {"userDirectory", "ACME"},
                                                                   {"groups", {"g1", "g2"}},
                                                                   {"email", "a@example.test"}})));
  ASSERT_TRUE(first.allowed);
  const std::string cookie = cookie_pair(*first.set_cookie);
  ASSERT_TRUE(gates_->save_sessions());
  EXPECT_TRUE(fs::exists(fs::path(config_.data_dir) / "sessions.db"));
  gates_ = restart(config_, clock_);

  clock_.set(kNow + 59);
  auto again = check(FakeRequest().with("Cookie", cookie));
  ASSERT_TRUE(again.allowed) << again.refusal.body;
  EXPECT_FALSE(again.set_cookie);  // the same session, not a new one
  EXPECT_EQ(header_of(again.upstream_headers, "X-Jotgate-User"),
            "UserDirectory=ACME; UserId=alice");
  EXPECT_EQ(header_of(again.upstream_headers, "X-Groups"), "g1,g2");
  EXPECT_EQ(header_of(again.upstream_headers, "X-Email"), "a@example.test");
  // Its inactivity timer came along (last use at kNow + 59).
  clock_.set(kNow + 59 + 61);
  EXPECT_EQ(check(FakeRequest().with("Cookie", cookie)).refusal.status, 401);
}

TEST_F(GateTest, RestoredSessionsGoOnlyToTheirPrefix) {
  start();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  ASSERT_TRUE(gates_->save_sessions());
  config::GatewayConfig renamed = config_;
  renamed.virtual_proxies[0].prefix = "other";  // same cookie name, another prefix
  gates_ = restart(renamed, clock_);
  EXPECT_EQ(check(FakeRequest().with("Cookie", cookie)).refusal.status, 401);
}

TEST_F(GateTest, ExpiredSessionsAreNotRestored) {
  start("    session: { inactivity_timeout: 60s }\n");
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  ASSERT_TRUE(gates_->save_sessions());
  clock_.set(kNow + 61);  // down longer than the inactivity timeout
  gates_ = restart(config_, clock_);
  EXPECT_EQ(check(FakeRequest().with("Cookie", cookie)).refusal.status, 401);
}

TEST_F(GateTest, MaintainSavesEverySaveInterval) {
  start("",
        "access: { allocations: [\"ACME\\\\alice\"] }\nsession_store: { save_interval: 30s }\n");
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  const fs::path file = fs::path(config_.data_dir) / "sessions.db";
  clock_.set(kNow + 29);
  gates_->maintain();
  gates_.reset();  // joins a save in progress
  EXPECT_FALSE(fs::exists(file));

  gates_ = restart(config_, clock_);
  auto again = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  clock_.set(kNow + 59);
  gates_->maintain();  // 30 s after this GateSet was built
  gates_.reset();
  ASSERT_TRUE(fs::exists(file));
  gates_ = restart(config_, clock_);
  EXPECT_TRUE(check(FakeRequest().with("Cookie", cookie_pair(*again.set_cookie))).allowed);
  // Created after the last save of the first GateSet: lost, as with kill -9.
  EXPECT_EQ(check(FakeRequest().with("Cookie", cookie)).refusal.status, 401);
}

TEST_F(GateTest, ACorruptSessionsFileIsIgnored) {
  start();
  fs::create_directories(config_.data_dir);
  std::ofstream(fs::path(config_.data_dir) / "sessions.db") << std::string(1000, 'x');
  gates_ = restart(config_, clock_);
  EXPECT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + alice_token())).allowed);
}

}  // namespace
}  // namespace jotgate::auth

// ----------------------------------------------------------------------------- reload
// A reload builds a new GateSet beside the one in force (GateSet::create with `previous`).
namespace jotgate::auth {
namespace {

class GateReloadTest : public GateTest {
 protected:
  // The set a reload to `vp_extra` (the YAML of the virtual proxy's further keys) would build.
  std::unique_ptr<GateSet> rebuilt(const std::string& vp_extra, const std::string& more = "") {
    auto config = config::parse_config(yaml_of(vp_extra + more, kAliceAndBob), "t.yaml",
                                       dir_.string(), config::KeyFiles::kMayFail);
    EXPECT_TRUE(config.ok()) << config.error().detail;
    auto gates = GateSet::create(*config, clock_, gates_.get());
    EXPECT_TRUE(gates.ok()) << gates.error().describe();
    return std::move(*gates);
  }
  static constexpr std::string_view kOther =
      "  - name: B\n    prefix: other\n    listeners: [http]\n"
      "    upstreams: [http://127.0.0.1:9000]\n    auth: { method: ticket }\n";
};

TEST_F(GateReloadTest, SessionsAndTicketsStayWithTheirPrefix) {
  start();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  ASSERT_TRUE(first.set_cookie);
  const std::string cookie = cookie_pair(*first.set_cookie);
  auto next = rebuilt("", std::string(kOther));
  next->activate();
  auto again = next->gate(0).check(FakeRequest().with("Cookie", cookie));
  ASSERT_TRUE(again.allowed);
  EXPECT_EQ(again.session_handle, first.session_handle);
  // Another prefix has sessions of its own.
  EXPECT_FALSE(next->gate(1).check(FakeRequest().with("Cookie", cookie)).allowed);
}

TEST_F(GateReloadTest, NewSessionLimitsApplyOnlyOnceActivated) {
  start();  // inactivity_timeout: the default 30 minutes
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  auto next = rebuilt("    session: { inactivity_timeout: 10s }\n");
  clock_.set(kNow + 20);
  // Built, not in force: the old limits still hold (a reload that fails changes nothing).
  ASSERT_TRUE(check(FakeRequest().with("Cookie", cookie)).allowed);
  next->activate();
  clock_.set(kNow + 31);
  auto expired = next->gate(0).check(FakeRequest().with("Cookie", cookie));
  EXPECT_FALSE(expired.allowed);
  EXPECT_EQ(expired.refusal.status, 401);
}

TEST_F(GateReloadTest, TokenCacheKeptWhenKeysAndClaimRulesAreTheSame) {
  start();
  const std::string t = alice_token();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + t));
  auto same = rebuilt("");
  // The cache remembers the session the token signed in: the token alone rides on it.
  EXPECT_EQ(same->gate(0).check(FakeRequest().with("Authorization", "Bearer " + t)).session_handle,
            first.session_handle);
}

TEST_F(GateReloadTest, TokenCacheStartsEmptyWhenClaimRulesChange) {
  start();
  const std::string t = alice_token();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + t));
  // Another leeway: a new cache, so the token signs in anew.
  auto stricter = rebuilt("        leeway: 5s\n");
  auto again = stricter->gate(0).check(FakeRequest().with("Authorization", "Bearer " + t));
  ASSERT_TRUE(again.allowed);
  EXPECT_NE(again.session_handle, first.session_handle);
}

TEST_F(GateReloadTest, UnusableKeyFileLeavesTheVirtualProxyWithoutKeys) {
  start();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  const std::string cookie = cookie_pair(*first.set_cookie);
  std::string yaml =
      "data_dir: data\nlisteners:\n  - name: http\n    address: 127.0.0.1:8080\n"
      "virtual_proxies:\n  - name: A\n    prefix: jwt\n    listeners: [http]\n"
      "    upstreams: [http://127.0.0.1:9000]\n"
      "    auth:\n      method: jwt\n      jwt:\n        key: missing.pem\n"
      "access: { allocations: [\"ACME\\\\alice\", \"ACME\\\\bob\"] }\n";
  EXPECT_FALSE(config::parse_config(yaml, "t.yaml", dir_.string()).ok());  // at start: an error
  auto config = config::parse_config(yaml, "t.yaml", dir_.string(), config::KeyFiles::kMayFail);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_TRUE(config->virtual_proxies[0].auth.jwt.providers[0].keys_problem.starts_with(
      "t.yaml:13:14: virtual_proxies[0].auth.jwt.key: "))
      << config->virtual_proxies[0].auth.jwt.providers[0].keys_problem;
  auto next = GateSet::create(*config, clock_, gates_.get());
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ((*next)->gate(0).keys_loaded(), 0u);
  EXPECT_EQ((*next)->gate(0).keys_problem(),
            config->virtual_proxies[0].auth.jwt.providers[0].keys_problem);
  auto refused =
      (*next)->gate(0).check(FakeRequest().with("Authorization", "Bearer " + alice_token()));
  EXPECT_EQ(refused.reason, Reason::kKeysUnavailable);
  EXPECT_EQ(refused.refusal.status, 503);
  EXPECT_EQ(header_of(refused.refusal.headers, "Retry-After"), "5");
  EXPECT_EQ(header_of(refused.refusal.headers, "WWW-Authenticate"), "<none>");
  // Signed-in users are not affected.
  EXPECT_TRUE((*next)->gate(0).check(FakeRequest().with("Cookie", cookie)).allowed);
  EXPECT_EQ(gates_->gate(0).keys_loaded(), 1u);
}

// What the proxy counts (jotgate_auth_decisions_total, token cache, sessions created).
TEST_F(GateTest, DecisionsSayHowTheyWereReached) {
  start();
  const std::string t = alice_token();
  auto first = check(FakeRequest().with("Authorization", "Bearer " + t));
  ASSERT_TRUE(first.allowed);
  EXPECT_EQ(first.signed_in_by, "jwt");
  EXPECT_EQ(first.token_cache, TokenCacheLookup::kMiss);
  EXPECT_TRUE(first.session_created);
  auto again = check(FakeRequest().with("Authorization", "Bearer " + t));
  EXPECT_EQ(again.signed_in_by, "jwt");
  EXPECT_EQ(again.token_cache, TokenCacheLookup::kHit);
  EXPECT_FALSE(again.session_created);  // rides on the session the token signed in
  auto by_cookie = check(FakeRequest().with("Cookie", cookie_pair(*first.set_cookie)));
  ASSERT_TRUE(by_cookie.allowed);
  EXPECT_EQ(by_cookie.signed_in_by, "session");
  EXPECT_EQ(by_cookie.token_cache, TokenCacheLookup::kNone);
  EXPECT_FALSE(by_cookie.session_created);
  auto expired = check(FakeRequest().with(
      "Authorization",
      "Bearer " + token({{"userId", "alice"}, {"userDirectory", "ACME"}, {"exp", kNow - 600}})));
  const DecisionStats stats = expired.stats();
  EXPECT_FALSE(stats.allowed);
  EXPECT_EQ(stats.reason, Reason::kTokenExpired);
  EXPECT_EQ(stats.token_cache, TokenCacheLookup::kMiss);
  EXPECT_FALSE(stats.session_created);
  auto none = check(FakeRequest()).stats();
  EXPECT_EQ(none.reason, Reason::kNoCredentials);
  EXPECT_EQ(none.token_cache, TokenCacheLookup::kNone);
  // A user without an allocation: refused after the token was verified (a cache miss).
  auto denied = check(FakeRequest().with(
      "Authorization", "Bearer " + token({{"userId", "carol"}, {"userDirectory", "ACME"}})));
  EXPECT_EQ(denied.reason, Reason::kAccessDenied);
  EXPECT_EQ(denied.token_cache, TokenCacheLookup::kMiss);
}

TEST_F(GateTest, LiveSessionsAndKeysLoaded) {
  start();
  Gate& gate = gates_->gate(0);
  EXPECT_EQ(gate.keys_loaded(), 1u);
  EXPECT_EQ(gate.live_sessions(), 0u);
  ASSERT_TRUE(check(FakeRequest().with("Authorization", "Bearer " + alice_token())).allowed);
  EXPECT_EQ(gate.live_sessions(), 1u);
}

}  // namespace
}  // namespace jotgate::auth
