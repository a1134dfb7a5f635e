// AdminApi over a fake SessionAdmin: every route, every refusal (status and body), the mapping
// of SessionAdmin's errors, and the audit line (the route template, never a secret).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "fake_session_admin.h"

namespace jotgate::admin {
namespace {

using json = nlohmann::json;

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::drop("audit");
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(audit_);
    auto logger = std::make_shared<spdlog::logger>("audit", sink);
    logger->set_pattern("%v");
    spdlog::register_logger(logger);
  }
  void TearDown() override { spdlog::drop("audit"); }

  Answer call(std::string_view method, std::string_view target, std::string_view body = "",
              std::optional<std::string_view> content_type = "application/json",
              ClientVerdict client = admitted_as("tester")) {
    return api_.handle({method, target, content_type, body, false, std::move(client)});
  }
  static json body_of(const Answer& r) { return json::parse(r.body); }
  static std::optional<std::string> header(const Answer& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  // The field errors of a 400 VALIDATION_FAILED, as "field: message".
  static std::vector<std::string> field_errors(const Answer& r) {
    EXPECT_EQ(r.status, 400) << r.body;
    json b = body_of(r);
    EXPECT_EQ(b["error"], "VALIDATION_FAILED");
    std::vector<std::string> out;
    for (const auto& e : b["errors"]) {
      out.push_back(e["field"].get<std::string>() + ": " + e["message"].get<std::string>());
    }
    return out;
  }
  std::string audit() {
    spdlog::get("audit")->flush();
    return audit_.str();
  }

  FakeSessionAdmin fake_;
  FakeBackend backend_{fake_};
  AdminApi api_{backend_};
  std::ostringstream audit_;
};

constexpr std::string_view kTickets = "/api/v1/virtual-proxies/sales/tickets";
constexpr std::string_view kSessions = "/api/v1/virtual-proxies/sales/sessions";

TEST_F(AdminApiTest, IssuesATicket) {
  auto r = call("POST", kTickets,
                R"({"userDirectory":"ACME","userId":"alice","attributes":{"X-Role":"admin"},)"
                R"("targetUri":"/sales/app"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_of(r), json::parse(R"({"ticket":"TICKET-SECRET-0","expiresAt":1700000060,)"
                                    R"("targetUri":"/sales/app","virtualProxy":"sales"})"));
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
  ASSERT_TRUE(fake_.last_ticket);
  EXPECT_EQ(fake_.last_ticket->user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(fake_.last_ticket->attributes, (auth::HeaderList{{"X-Role", "admin"}}));
  EXPECT_EQ(fake_.last_ticket->target_uri, "/sales/app");
  EXPECT_EQ(audit(),
            "event=admin_call method=POST route=/virtual-proxies/{prefix}/tickets vp=sales "
            "user=ACME\\alice client=tester status=201\n");
}

TEST_F(AdminApiTest, TildeNamesTheRootAndParametersArePercentDecoded) {
  auto r = call("POST", "/api/v1/virtual-proxies/%7E/tickets?x=1",
                R"({"userDirectory":"ACME","userId":"alice"})", "Application/JSON; charset=utf-8");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body_of(r)["ticket"], "TICKET-SECRET-1");
  EXPECT_EQ(body_of(r)["virtualProxy"], "");
  EXPECT_EQ(body_of(r)["targetUri"], "");
}

TEST_F(AdminApiTest, SessionLifecycle) {
  auto created = call("POST", kSessions, R"({"userDirectory":"ACME","userId":"alice"})");
  ASSERT_EQ(created.status, 201) << created.body;
  json session = body_of(created);
  EXPECT_EQ(session["sessionId"], "SESSION-SECRET-0");
  EXPECT_EQ(session["cookieName"], "X-Jotgate-Session-sales");
  EXPECT_EQ(session["expiresAt"], 1700001800);
  EXPECT_EQ(session["virtualProxy"], "sales");
  EXPECT_EQ(session["userDirectory"], "ACME");
  EXPECT_EQ(session["userId"], "alice");

  const std::string one = std::string(kSessions) + "/SESSION-SECRET-0";
  auto found = call("GET", one);
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(body_of(found), session);
  auto ended = call("DELETE", one);
  EXPECT_EQ(ended.status, 204);
  EXPECT_EQ(ended.body, "");
  auto gone = call("GET", one);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(body_of(gone)["error"], "SESSION_NOT_FOUND");
  EXPECT_EQ(call("DELETE", one).status, 404);

  const std::string log = audit();
  EXPECT_EQ(log.find("SESSION-SECRET"), std::string::npos) << log;
  EXPECT_NE(log.find("method=GET route=/virtual-proxies/{prefix}/sessions/{id} vp=sales "
                     "user=ACME\\alice client=tester status=200"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("method=DELETE route=/virtual-proxies/{prefix}/sessions/{id} vp=sales "
                     "user=- client=tester status=404"),
            std::string::npos)
      << log;
}

TEST_F(AdminApiTest, UserSessionsListedAndEnded) {
  ASSERT_EQ(call("POST", kSessions, R"({"userDirectory":"ACME","userId":"al ice"})").status, 201);
  ASSERT_EQ(call("POST", kSessions, R"({"userDirectory":"ACME","userId":"al ice"})").status, 201);
  ASSERT_EQ(call("POST", kSessions, R"({"userDirectory":"ACME","userId":"bob"})").status, 201);
  auto list = call("GET", "/api/v1/users/ACME/al%20ice/sessions");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(body_of(list)["sessions"].size(), 2u);
  EXPECT_EQ(body_of(list)["sessions"][0]["userId"], "al ice");
  auto ended = call("DELETE", "/api/v1/users/ACME/al%20ice/sessions");
  ASSERT_EQ(ended.status, 200);
  EXPECT_EQ(body_of(ended), json::parse(R"({"ended":2})"));
  EXPECT_EQ(body_of(call("GET", "/api/v1/users/ACME/al%20ice/sessions"))["sessions"].size(), 0u);
  EXPECT_EQ(fake_.sessions.size(), 1u);
  // The value with a space is quoted so the audit line keeps one value per key.
  EXPECT_NE(audit().find("route=/users/{directory}/{id}/sessions vp=- user=\"ACME\\\\al ice\" "
                         "client=tester status=200"),
            std::string::npos);
}

TEST_F(AdminApiTest, RefusedClientsGetTheVerdictAndNothingIsDone) {
  auto none = call("POST", kSessions, R"({"userDirectory":"ACME","userId":"alice"})",
                   "application/json", refused(401, "NO_CREDENTIALS", "needed"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(body_of(none), json::parse(R"({"error":"NO_CREDENTIALS","message":"needed"})"));
  EXPECT_EQ(header(none, "WWW-Authenticate"), "Bearer realm=\"jotgate-admin\"");
  auto wrong = call("GET", "/api/v1/users/A/b/sessions", "", std::nullopt,
                    refused(401, "INVALID_TOKEN", "wrong"));
  EXPECT_EQ(header(wrong, "WWW-Authenticate"),
            "Bearer realm=\"jotgate-admin\", error=\"invalid_token\"");
  auto untrusted = call("GET", "/api/v1/nowhere", "", std::nullopt,
                        refused(403, "CERTIFICATE_UNTRUSTED", "not ours"));
  EXPECT_EQ(untrusted.status, 403);
  EXPECT_FALSE(header(untrusted, "WWW-Authenticate"));
  EXPECT_TRUE(fake_.sessions.empty());
  const std::string log = audit();
  EXPECT_NE(log.find("route=/virtual-proxies/{prefix}/sessions vp=sales user=- client=- "
                     "status=401"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("method=GET route=- vp=- user=- client=- status=403"), std::string::npos);
}

TEST_F(AdminApiTest, UnknownRoutesMethodsAndVirtualProxies) {
  for (std::string_view target :
       {"/api/v1/", "/api/v1/virtual-proxies/sales/x", "/api/v1/virtual-proxies/sales/tickets/x",
        "/api/v1/virtual-proxies//tickets", "/api/v2/virtual-proxies/sales/tickets", "/sales/app",
        "/api/v1/users/ACME/alice", "/api/v1/users/ACME/alice/sessions/x"}) {
    auto r = call("POST", target, "{}");
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(body_of(r)["error"], "NOT_FOUND") << target;
  }
  auto get_tickets = call("GET", kTickets);
  EXPECT_EQ(get_tickets.status, 405);
  EXPECT_EQ(header(get_tickets, "Allow"), "POST");
  EXPECT_EQ(body_of(get_tickets)["error"], "METHOD_NOT_ALLOWED");
  auto put_session = call("PUT", std::string(kSessions) + "/x");
  EXPECT_EQ(put_session.status, 405);
  EXPECT_EQ(header(put_session, "Allow"), "GET, DELETE");
  EXPECT_EQ(header(call("POST", "/api/v1/users/A/b/sessions"), "Allow"), "GET, DELETE");
  auto put_sessions = call("PUT", kSessions);
  EXPECT_EQ(put_sessions.status, 405);
  EXPECT_EQ(header(put_sessions, "Allow"), "GET, POST");  // GET lists them (the console)
  // A virtual proxy itself is a route of its own (issue 15): read, replaced, deleted.
  auto post_vp = call("POST", "/api/v1/virtual-proxies/sales", "{}");
  EXPECT_EQ(post_vp.status, 405);
  EXPECT_EQ(header(post_vp, "Allow"), "GET, PUT, PATCH, DELETE");

  auto unknown_vp = call("POST", "/api/v1/virtual-proxies/nope/tickets",
                         R"({"userDirectory":"ACME","userId":"alice"})");
  EXPECT_EQ(unknown_vp.status, 404);
  EXPECT_EQ(body_of(unknown_vp)["error"], "VIRTUAL_PROXY_NOT_FOUND");
  EXPECT_EQ(call("GET", "/api/v1/virtual-proxies/nope/sessions/x").status, 404);

  auto malformed = call("GET", "/api/v1/virtual-proxies/sales/sessions/%zz");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(body_of(malformed)["error"], "BAD_REQUEST");
}

TEST_F(AdminApiTest, BodyValidationListsEveryFieldError) {
  EXPECT_EQ(field_errors(call("POST", kTickets, "{}")),
            (std::vector<std::string>{"userDirectory: is required", "userId: is required"}));
  EXPECT_EQ(
      field_errors(call("POST", kTickets,
                        R"({"userDirectory":7,"userId":"","attributes":{"A":"1","B":2},)"
                        R"("targetUri":false,"extra":1,"ticket":"x"})")),
      (std::vector<std::string>{"userDirectory: must be a string", "userId: must not be empty",
                                "attributes.B: must be a string", "targetUri: must be a string",
                                "extra: is not a known field", "ticket: is not a known field"}));
  EXPECT_EQ(field_errors(
                call("POST", kTickets, R"({"userDirectory":"A","userId":"b","attributes":["x"]})")),
            (std::vector<std::string>{"attributes: must be an object of strings"}));
  EXPECT_EQ(field_errors(
                call("POST", kTickets, R"({"userDirectory":"A","userId":"b","attributes":null})")),
            (std::vector<std::string>{"attributes: must be an object of strings"}));
  // Sessions have no target.
  EXPECT_EQ(field_errors(call("POST", kSessions,
                              R"({"userDirectory":"A","userId":"b","targetUri":"/sales/"})")),
            (std::vector<std::string>{"targetUri: is not a known field"}));
  EXPECT_EQ(field_errors(call("POST", kTickets, R"({"userDirectory":"A",)")),
            (std::vector<std::string>{"(body): is not valid JSON"}));
  EXPECT_EQ(field_errors(call("POST", kTickets, "")),
            (std::vector<std::string>{"(body): is not valid JSON"}));
  EXPECT_EQ(field_errors(call("POST", kTickets, R"(["userId"])")),
            (std::vector<std::string>{"(body): must be a JSON object"}));
  EXPECT_FALSE(fake_.last_ticket);
}

TEST_F(AdminApiTest, ContentTypeAndSize) {
  const std::string body = R"({"userDirectory":"A","userId":"b"})";
  for (auto type :
       {std::optional<std::string_view>(), std::optional<std::string_view>("text/plain"),
        std::optional<std::string_view>("application/json-seq"),
        std::optional<std::string_view>("application/x-www-form-urlencoded")}) {
    auto r = call("POST", kTickets, body, type);
    EXPECT_EQ(r.status, 415);
    EXPECT_EQ(body_of(r)["error"], "UNSUPPORTED_MEDIA_TYPE");
  }
  auto large = api_.handle({"POST", kTickets, "application/json", "", true, admitted_as("tester")});
  EXPECT_EQ(large.status, 413);
  EXPECT_EQ(body_of(large)["error"], "PAYLOAD_TOO_LARGE");
  EXPECT_FALSE(fake_.last_ticket);
}

TEST_F(AdminApiTest, SessionAdminErrorsMapToStatusAndField) {
  const std::string body = R"({"userDirectory":"ACME","userId":"alice"})";
  fake_.next_error = make_error(Reason::kAccessDenied, "ACME\\alice has no access allocation");
  auto denied = call("POST", kTickets, body);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(body_of(denied)["error"], "ACCESS_DENIED");

  const std::string cannot_forward(reason_message(Reason::kIdentityInvalid));
  fake_.next_error = make_field_error(Reason::kIdentityInvalid, "userId");
  EXPECT_EQ(field_errors(call("POST", kSessions, body)),
            (std::vector<std::string>{"userId: " + cannot_forward}));
  fake_.next_error = make_field_error(Reason::kIdentityInvalid, "userDirectory");
  EXPECT_EQ(field_errors(call("POST", kSessions, body)),
            (std::vector<std::string>{"userDirectory: " + cannot_forward}));

  fake_.next_error = make_field_error(Reason::kBadRequest, "targetUri", "must be under /sales/");
  EXPECT_EQ(field_errors(call("POST", kTickets, body)),
            (std::vector<std::string>{"targetUri: must be under /sales/"}));
  fake_.next_error =
      make_field_error(Reason::kBadRequest, "attributes.X Y", "is not a header name");
  EXPECT_EQ(field_errors(call("POST", kTickets, body)),
            (std::vector<std::string>{"attributes.X Y: is not a header name"}));
  fake_.next_error = make_error(Reason::kBadRequest, "something else");
  EXPECT_EQ(field_errors(call("POST", kTickets, body)).size(), 1u);
  EXPECT_EQ(field_errors(call("POST", kTickets, body))[0].substr(0, 8), "(body): ");
}

TEST_F(AdminApiTest, AuditValuesCannotForgeLinesOrKeys) {
  call("GET", "/api/v1/users/ACME/x%0Aevent=forged%20status=200/sessions");
  const std::string log = audit();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("user=\"ACME\\\\x\\nevent=forged status=200\" "), std::string::npos) << log;
  EXPECT_EQ(log.find(" event=forged"), std::string::npos) << log;
  EXPECT_EQ(log.find("TICKET-SECRET"), std::string::npos);
}

TEST_F(AdminApiTest, ConfigReloadAppliedAnswersOkWithItsWarnings) {
  backend_.report = {true, {}, {"jotgate.yaml:9:14: virtual_proxies[0].auth.jwt.key: cannot read"}};
  Answer r = call("POST", "/api/v1/config/reload");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"result":"ok","warnings":["jotgate.yaml:9:14: virtual_proxies[0].auth.jwt.key: )"
            R"(cannot read"]})");
  EXPECT_EQ(backend_.reloads, 1);
  EXPECT_NE(audit().find("event=admin_call method=POST route=/config/reload"), std::string::npos)
      << audit();
}

TEST_F(AdminApiTest, ConfigReloadRefusedAnswers422WithEveryProblem) {
  backend_.report = {false,
                     {"jotgate.yaml:3:14: listeners[0].address: \"x\" is not host:port",
                      "jotgate.yaml:7:5: virtual_proxies[0]: unknown key \"prefx\""},
                     {}};
  Answer r = call("POST", "/api/v1/config/reload");
  EXPECT_EQ(r.status, 422);
  const json body = body_of(r);
  EXPECT_EQ(body["error"], "CONFIG_INVALID");
  EXPECT_EQ(body["problems"],
            json::array({backend_.report.problems[0], backend_.report.problems[1]}));
}

TEST_F(AdminApiTest, ConfigReloadOnlyByPost) {
  Answer r = call("GET", "/api/v1/config/reload");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "POST");
  EXPECT_EQ(backend_.reloads, 0);
}

TEST_F(AdminApiTest, ConfigReloadRefusedToUnknownClients) {
  Answer r = call("POST", "/api/v1/config/reload", "", "application/json",
                  ClientVerdict{false, "", 401, "MISSING_CREDENTIALS", "no credentials"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(backend_.reloads, 0);
}

// The revocation routes over a real Revocations (SQLite in a temporary folder), the clock pinned.
class AdminRevocationsTest : public AdminApiTest {
 protected:
  static constexpr UnixSeconds kNow = 1'800'000'000;
  void SetUp() override {
    AdminApiTest::SetUp();
    dir_ = std::filesystem::temp_directory_path() /
           ("jotgate-admin-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    auto opened = auth::Revocations::open(dir_.string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    backend_.revocations_store = *opened;
  }
  void TearDown() override {
    backend_.revocations_store.reset();
    std::filesystem::remove_all(dir_);
    AdminApiTest::TearDown();
  }
  Answer call(std::string_view method, std::string_view target, std::string_view body = "") {
    return clocked_.handle(
        {method, target, "application/json", body, false, admitted_as("tester")});
  }

  std::filesystem::path dir_;
  FixedClock clock_{kNow};
  AdminApi clocked_{backend_, clock_};
};

TEST_F(AdminRevocationsTest, RevokeListAndLift) {
  auto by_token = call("POST", "/api/v1/revocations", R"({"jti":"t-1","until":1800003600})");
  ASSERT_EQ(by_token.status, 201) << by_token.body;
  EXPECT_EQ(by_token.body,
            R"({"id":1,"jti":"t-1","kind":"jti","revokedAt":1800000000,"until":1800003600})");
  auto by_user =
      call("POST", "/api/v1/revocations", R"({"userDirectory":"ACME","userId":"alice"})");
  ASSERT_EQ(by_user.status, 201) << by_user.body;
  EXPECT_EQ(by_user.body,
            R"({"id":2,"kind":"user","revokedAt":1800000000,"until":null,"userDirectory":"ACME",)"
            R"("userId":"alice"})");
  auto rfc3339 =
      call("POST", "/api/v1/revocations", R"({"jti":"t-2","until":"2030-01-31T12:00:00+01:00"})");
  EXPECT_EQ(body_of(rfc3339)["until"], 1896087600);  // 11:00 UTC
  // In force at once, without waiting for the gateway's tick.
  EXPECT_TRUE(backend_.revocations_store->current()->refuses("t-1", 1, {"X", "y"}, kNow));

  auto list = call("GET", "/api/v1/revocations");
  ASSERT_EQ(list.status, 200);
  const json entries = body_of(list)["revocations"];
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["jti"], "t-1");
  EXPECT_EQ(entries[1]["userId"], "alice");
  EXPECT_EQ(header(list, "Cache-Control"), "no-store");

  auto lifted = call("DELETE", "/api/v1/revocations/1");
  EXPECT_EQ(lifted.status, 204);
  EXPECT_EQ(lifted.body, "");
  EXPECT_FALSE(backend_.revocations_store->current()->refuses("t-1", 1, {"X", "y"}, kNow));
  for (std::string_view target :
       {"/api/v1/revocations/1", "/api/v1/revocations/99", "/api/v1/revocations/x",
        "/api/v1/revocations/-2", "/api/v1/revocations/0"}) {
    auto again = call("DELETE", target);
    EXPECT_EQ(again.status, 404) << target;
    EXPECT_EQ(again.body,
              R"({"error":"REVOCATION_NOT_FOUND","message":"no revocation has this id"})");
  }
  EXPECT_EQ(body_of(call("GET", "/api/v1/revocations"))["revocations"].size(), 2u);
  EXPECT_NE(audit().find("event=admin_call method=POST route=/revocations vp=- user=ACME\\alice "
                         "client=tester status=201"),
            std::string::npos)
      << audit();
}

TEST_F(AdminRevocationsTest, BodyValidationNamesEveryField) {
  const std::string kRoute = "/api/v1/revocations";
  EXPECT_EQ(field_errors(call("POST", kRoute, "{}")),
            (std::vector<std::string>{"(body): give jti, or userDirectory and userId"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"jti":"a","userId":"b"})")),
            (std::vector<std::string>{"(body): give jti or userDirectory and userId, not both"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"jti":7,"until":"tomorrow","x":1})")),
            (std::vector<std::string>{"jti: must be a string",
                                      "until: must be a time: Unix seconds, or RFC 3339 in a "
                                      "string",
                                      "x: is not a known field"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"jti":"","until":1.5})")),
            (std::vector<std::string>{"jti: must not be empty",
                                      "until: must be a time: Unix seconds, or RFC 3339 in a "
                                      "string"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"jti":"a","until":1800000000})")),
            (std::vector<std::string>{"until: must be in the future"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"jti":"a","until":-5})")),
            (std::vector<std::string>{"until: must be a time: Unix seconds, or RFC 3339 in a "
                                      "string"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"userDirectory":"ACME"})")),
            (std::vector<std::string>{"userId: is required"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"({"userDirectory":"AC;ME","userId":"a"})")),
            (std::vector<std::string>{"(body): the user id or user directory contains characters "
                                      "that cannot be forwarded"}));
  EXPECT_EQ(field_errors(call("POST", kRoute, R"([1])")),
            (std::vector<std::string>{"(body): must be a JSON object"}));
  auto not_json = clocked_.handle(
      {"POST", kRoute, "text/plain", R"({"jti":"a"})", false, admitted_as("tester")});
  EXPECT_EQ(not_json.status, 415);
  EXPECT_TRUE(backend_.revocations_store->list()->empty());
}

TEST_F(AdminRevocationsTest, MethodsOutsideTheRoutesAre405WithAllow) {
  auto put = call("PUT", "/api/v1/revocations");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(header(put, "Allow"), "GET, POST");
  EXPECT_EQ(body_of(put)["error"], "METHOD_NOT_ALLOWED");
  auto get_one = call("GET", "/api/v1/revocations/1");
  EXPECT_EQ(get_one.status, 405);
  EXPECT_EQ(header(get_one, "Allow"), "DELETE");
  EXPECT_EQ(call("DELETE", "/api/v1/revocations/1/x").status, 404);
}

}  // namespace
}  // namespace jotgate::admin
