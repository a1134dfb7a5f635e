// The console's answers without sockets: its pages and files with their security headers,
// sign-in with the token (audited, failure limited, never logging the session id or CSRF token),
// the session and its cookie, sign-out with its CSRF token, and what a cookie admits for /api/v1.
#include "console/console.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "../auth/audit_capture.h"

namespace jotgate::console {
namespace {

using json = nlohmann::json;
constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
constexpr std::string_view kToken = "the-admin-token";

std::optional<std::string> header(const Answer& answer, std::string_view name) {
  for (const auto& [key, value] : answer.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

class ConsoleTest : public auth::AuditCaptureTest {
 protected:
  std::string audit() {
    spdlog::get("audit")->flush();
    return audit_.str();
  }

  ConsoleRequest request(std::string_view method, std::string_view target) {
    ConsoleRequest r;
    r.method = method;
    r.target = target;
    r.client_address = "192.0.2.7";
    r.authenticate = [](std::optional<std::string_view> token) -> std::optional<std::string> {
      if (token && *token == kToken) return "token";
      return std::nullopt;
    };
    return r;
  }

  // Signs in; returns the cookie header and the CSRF token.
  std::pair<std::string, std::string> sign_in() {
    ConsoleRequest r = request("POST", "/console/sign-in");
    r.content_type = "application/json";
    const std::string body = json{{"token", kToken}}.dump();
    r.body = body;
    Answer answer = console_.handle(r);
    EXPECT_EQ(answer.status, 200) << answer.body;
    const std::string cookie = header(answer, "Set-Cookie").value_or("");
    return {cookie.substr(0, cookie.find(';')), json::parse(answer.body)["csrfToken"]};
  }

  FixedClock clock_{1'800'000'000};
  Console console_{clock_};
};

TEST_F(ConsoleTest, EveryAnswerCarriesTheSecurityHeaders) {
  for (std::string_view target :
       {"/console", "/console/", "/console/assets/app.js", "/console/nope", "/console/session"}) {
    Answer answer = console_.handle(request("GET", target));
    EXPECT_EQ(header(answer, "Content-Security-Policy"), kCsp) << target;
    EXPECT_EQ(header(answer, "X-Frame-Options"), "DENY") << target;
    EXPECT_EQ(header(answer, "X-Content-Type-Options"), "nosniff") << target;
    EXPECT_EQ(header(answer, "Referrer-Policy"), "no-referrer") << target;
    EXPECT_EQ(header(answer, "Cache-Control"), "no-store") << target;
  }
}

TEST_F(ConsoleTest, PagesFilesRedirectAndNotFound) {
  Answer redirect = console_.handle(request("GET", "/console"));
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(header(redirect, "Location"), "/console/");

  Answer page = console_.handle(request("GET", "/console/?x=1"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(page.body.starts_with("<!doctype html>"));

  Answer script = console_.handle(request("GET", "/console/assets/app.js"));
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(header(script, "Content-Type"), "text/javascript; charset=utf-8");
  const std::string etag = header(script, "ETag").value_or("");
  ConsoleRequest again = request("GET", "/console/assets/app.js");
  again.if_none_match = etag;
  Answer unchanged = console_.handle(again);
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_EQ(unchanged.body, "");

  for (std::string_view target : {"/console/nope", "/console/assets/", "/console/assets/x.js",
                                  "/console/assets/../index.html", "/consoles"}) {
    if (!Console::is_console_path(target)) continue;
    Answer missing = console_.handle(request("GET", target));
    EXPECT_EQ(missing.status, 404) << target;
    EXPECT_EQ(missing.body, R"({"error":"NOT_FOUND","message":"no such page of the console"})");
  }
  EXPECT_FALSE(Console::is_console_path("/consoles"));
  EXPECT_FALSE(Console::is_console_path("/api/v1/console"));
  EXPECT_TRUE(Console::is_console_path("/console?x"));

  Answer wrong = console_.handle(request("POST", "/console/"));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(header(wrong, "Allow"), "GET");
  EXPECT_EQ(console_.handle(request("GET", "/console/sign-in")).status, 405);
}

TEST_F(ConsoleTest, SignInSetsTheHostCookieAndTheSessionAnswersWithTheSameCsrfToken) {
  ConsoleRequest r = request("POST", "/console/sign-in");
  r.content_type = "application/json";
  r.body = R"({"token":"the-admin-token"})";
  Answer answer = console_.handle(r);
  ASSERT_EQ(answer.status, 200);
  json body = json::parse(answer.body);
  EXPECT_EQ(body["admin"], "token");
  EXPECT_EQ(body["idleTimeout"], 900);
  const std::string csrf = body["csrfToken"];
  EXPECT_EQ(csrf.size(), 64u);
  const std::string cookie = header(answer, "Set-Cookie").value_or("");
  ASSERT_TRUE(cookie.starts_with("__Host-jotgate-console=")) << cookie;
  const std::string id = cookie.substr(23, 64);
  EXPECT_EQ(cookie, "__Host-jotgate-console=" + id + "; Path=/; Secure; HttpOnly; SameSite=Strict");

  ConsoleRequest session = request("GET", "/console/session");
  const std::string cookie_header = "theme=dark; __Host-jotgate-console=" + id;
  session.cookie_headers = {cookie_header};
  Answer info = console_.handle(session);
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(json::parse(info.body),
            (json{{"admin", "token"}, {"csrfToken", csrf}, {"expiresAt", 1'800'000'900}}));

  EXPECT_EQ(console_.session_admin({cookie_header}), "token");
  EXPECT_TRUE(console_.csrf_accepted({cookie_header}, csrf));
  EXPECT_FALSE(console_.csrf_accepted({cookie_header}, std::nullopt));
  EXPECT_FALSE(console_.csrf_accepted({cookie_header}, id));

  // The audit names the admin and the client, never the session id or the CSRF token.
  const std::string log = audit();
  EXPECT_EQ(log, "event=console_sign_in result=ok admin=token client=192.0.2.7\n");
  EXPECT_EQ(log.find(id), std::string::npos);
  EXPECT_EQ(log.find(csrf), std::string::npos);
}

TEST_F(ConsoleTest, AWrongTokenIsRefusedAuditedAndLimitedPerAddress) {
  ConsoleRequest r = request("POST", "/console/sign-in");
  r.content_type = "application/json";
  r.body = R"({"token":"guess"})";
  for (int i = 0; i < Console::kSignInLimit.failures; ++i) {
    Answer refused = console_.handle(r);
    ASSERT_EQ(refused.status, 401) << i;
    EXPECT_EQ(refused.body,
              R"({"error":"INVALID_TOKEN","message":"the token is not the admin token"})");
    EXPECT_FALSE(header(refused, "Set-Cookie"));
  }
  Answer limited = console_.handle(r);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(
      limited.body,
      R"({"error":"TOO_MANY_FAILURES","message":"too many failed sign-ins from this address; try again later"})");
  EXPECT_EQ(header(limited, "Retry-After"), "6");
  // The right token still works from another address.
  r.client_address = "192.0.2.8";
  r.body = R"({"token":"the-admin-token"})";
  EXPECT_EQ(console_.handle(r).status, 200);
  const std::string log = audit();
  EXPECT_NE(log.find("event=console_sign_in result=refused admin=- client=192.0.2.7\n"),
            std::string::npos);
  EXPECT_EQ(log.find("guess"), std::string::npos);
  EXPECT_EQ(console_.session_admin({}), std::nullopt);
}

TEST_F(ConsoleTest, SignInBodiesThatAreNotATokenAreRefused) {
  ConsoleRequest r = request("POST", "/console/sign-in");
  r.body = R"({"token":"the-admin-token"})";
  Answer plain = console_.handle(r);
  EXPECT_EQ(plain.status, 415);
  r.content_type = "application/json";
  r.body = R"({"token":42})";
  Answer number = console_.handle(r);
  EXPECT_EQ(number.status, 400);
  EXPECT_EQ(
      number.body,
      R"({"error":"VALIDATION_FAILED","errors":[{"field":"token","message":"must be a string"}]})");
  r.body = "[1]";
  EXPECT_EQ(
      console_.handle(r).body,
      R"x({"error":"VALIDATION_FAILED","errors":[{"field":"(body)","message":"must be a JSON object"}]})x");
  // No body: only a trusted client certificate could sign in; the test's authenticate has none.
  r.body = "";
  Answer none = console_.handle(r);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(
      none.body,
      R"({"error":"INVALID_TOKEN","message":"give the admin token, or a client certificate of the admin CA"})");
}

TEST_F(ConsoleTest, WithoutASessionTheSessionAnswerIsNoSession) {
  ConsoleRequest r = request("GET", "/console/session");
  const std::string forged = "__Host-jotgate-console=" + std::string(64, 'a');
  r.cookie_headers = {forged};
  Answer answer = console_.handle(r);
  EXPECT_EQ(answer.status, 401);
  EXPECT_EQ(answer.body, R"({"error":"NO_SESSION","message":"sign in to the console"})");
}

TEST_F(ConsoleTest, TheSessionEndsAfterFifteenIdleMinutes) {
  auto [cookie, csrf] = sign_in();
  clock_.set(1'800'000'000 + 899);
  EXPECT_EQ(console_.session_admin({cookie}), "token");
  clock_.set(1'800'000'000 + 899 + 900);
  EXPECT_EQ(console_.session_admin({cookie}), std::nullopt);
}

TEST_F(ConsoleTest, SignOutNeedsTheCsrfTokenThenClearsTheCookie) {
  auto [cookie, csrf] = sign_in();
  ConsoleRequest r = request("POST", "/console/sign-out");
  r.cookie_headers = {cookie};
  Answer refused = console_.handle(r);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(
      refused.body,
      R"({"error":"CSRF_REJECTED","message":"the X-CSRF-Token header is missing or not this session's"})");
  EXPECT_EQ(console_.session_admin({cookie}), "token");

  r.csrf_token = csrf;
  Answer done = console_.handle(r);
  EXPECT_EQ(done.status, 204);
  EXPECT_EQ(header(done, "Set-Cookie"),
            "__Host-jotgate-console=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
  EXPECT_EQ(console_.session_admin({cookie}), std::nullopt);
  EXPECT_EQ(console_.handle(r).status, 401);
  EXPECT_NE(audit().find("event=console_sign_out admin=token client=192.0.2.7\n"),
            std::string::npos);
}

}  // namespace
}  // namespace jotgate::console
