#include "console/console.h"

#include <nlohmann/json.hpp>

#include "auth/audit.h"
#include "base/text.h"
#include "console/console_assets.h"
#include "console/request_origin.h"
#include "session/cookie.h"

namespace jotgate::console {

namespace {

using json = nlohmann::json;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

Answer json_answer(int status, const json& body) {
  return {status,
          {{"Content-Type", "application/json"}},
          body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::string session_cookie(std::string_view id) {
  return std::string(kCookieName) + "=" + std::string(id) +
         "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

std::string_view session_id(const std::vector<std::string_view>& cookie_headers) {
  auto values = session::find_cookie_values(cookie_headers, kCookieName);
  return values.empty() ? std::string_view() : values.front();
}

bool is_json_media_type(std::optional<std::string_view> content_type) {
  return content_type &&
         iequals(trim_ows(content_type->substr(0, content_type->find(';'))), "application/json");
}

}  // namespace

Answer csrf_rejected(std::string_view message) {
  return error_answer(403, "CSRF_REJECTED", message);
}

void add_security_headers(Answer& answer) {
  answer.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  answer.headers.emplace_back("X-Frame-Options", "DENY");
  answer.headers.emplace_back("X-Content-Type-Options", "nosniff");
  answer.headers.emplace_back("Referrer-Policy", "no-referrer");
  answer.headers.emplace_back("Cache-Control", "no-store");
}

Console::Console(const Clock& clock, std::size_t max_sessions)
    : clock_(clock), sessions_(max_sessions), sign_in_failures_(kSignInLimit) {}

bool Console::is_console_path(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/console" || path.starts_with("/console/");
}

Answer Console::handle(const ConsoleRequest& request) {
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  auto answer = [&]() -> Answer {
    auto only = [&](std::string_view allow) -> std::optional<Answer> {
      if (request.method == allow || (allow == "GET" && request.method == "HEAD")) {
        return std::nullopt;
      }
      Answer refusal =
          error_answer(405, "METHOD_NOT_ALLOWED", "this page answers " + std::string(allow));
      refusal.headers.emplace_back("Allow", allow);
      return refusal;
    };
    if (path == "/console") {
      if (auto refusal = only("GET")) return *refusal;
      return {301, {{"Location", "/console/"}}, ""};
    }
    if (path == "/console/sign-in") {
      if (auto refusal = only("POST")) return *refusal;
      if (request.body_too_large) {
        return error_answer(413, "PAYLOAD_TOO_LARGE", "the sign-in body is too large");
      }
      return sign_in(request);
    }
    if (path == "/console/session") {
      if (auto refusal = only("GET")) return *refusal;
      return session_answer(request);
    }
    if (path == "/console/sign-out") {
      if (auto refusal = only("POST")) return *refusal;
      return sign_out(request);
    }

    const Asset* asset = nullptr;
    if (path == "/console/") {
      asset = find_asset("index.html");
    } else if (path.starts_with("/console/assets/")) {
      asset = find_asset(path.substr(std::string_view("/console/assets/").size()));
    }
    if (asset == nullptr) return error_answer(404, "NOT_FOUND", "no such page of the console");
    if (auto refusal = only("GET")) return *refusal;
    if (request.if_none_match && trim_ows(*request.if_none_match) == asset->etag) {
      return {304, {{"ETag", std::string(asset->etag)}}, ""};
    }
    return {
        200,
        {{"Content-Type", std::string(asset->content_type)}, {"ETag", std::string(asset->etag)}},
        std::string(asset->bytes)};
  };
  Answer response = answer();
  add_security_headers(response);
  return response;
}

Answer Console::sign_in(const ConsoleRequest& request) {
  // The body is {"token": "..."}; none at all (a trusted client certificate) is fine too.
  std::optional<std::string> token;
  if (!trim_whitespace(request.body).empty()) {
    if (!is_json_media_type(request.content_type)) {
      return error_answer(415, "UNSUPPORTED_MEDIA_TYPE",
                          "the body must be JSON, sent with Content-Type: application/json");
    }
    json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    auto it = body.is_object() ? body.find("token") : body.end();
    if (body.is_object() && it != body.end() && it->is_string()) {
      token = it->get<std::string>();
    } else if (body.is_object() && it != body.end()) {
      return json_answer(400,
                         {{"error", "VALIDATION_FAILED"},
                          {"errors", {{{"field", "token"}, {"message", "must be a string"}}}}});
    } else if (!body.is_object()) {
      return json_answer(
          400, {{"error", "VALIDATION_FAILED"},
                {"errors", {{{"field", "(body)"}, {"message", "must be a JSON object"}}}}});
    }
  }
  const UnixSeconds now = clock_.now_seconds();
  std::optional<std::string> admin =
      request.authenticate ? request.authenticate(token) : std::nullopt;
  if (!admin) {
    auth::audit("console_sign_in",
                {{"result", "refused"}, {"admin", ""}, {"client", request.client_address}});
    if (const std::int64_t wait = sign_in_failures_.count_failure(request.client_address, now);
        wait > 0) {
      Answer refusal = error_answer(429, "TOO_MANY_FAILURES",
                                    "too many failed sign-ins from this address; try again later");
      refusal.headers.emplace_back("Retry-After", std::to_string(wait));
      return refusal;
    }
    return error_answer(401, "INVALID_TOKEN",
                        token ? "the token is not the admin token"
                              : "give the admin token, or a client certificate of the admin CA");
  }
  auth::audit("console_sign_in",
              {{"result", "ok"}, {"admin", *admin}, {"client", request.client_address}});
  ConsoleSessions::Opened opened = sessions_.open(*admin, now);
  Answer answer = json_answer(200, {{"admin", *admin},
                                    {"csrfToken", opened.csrf_token},
                                    {"idleTimeout", ConsoleSessions::kIdleSeconds}});
  answer.headers.emplace_back("Set-Cookie", session_cookie(opened.id));
  return answer;
}

Answer Console::session_answer(const ConsoleRequest& request) {
  auto session = sessions_.find(session_id(request.cookie_headers), clock_.now_seconds());
  if (!session) return error_answer(401, "NO_SESSION", "sign in to the console");
  return json_answer(200, {{"admin", session->admin},
                           {"csrfToken", session->csrf_token},
                           {"expiresAt", session->expires_at}});
}

Answer Console::sign_out(const ConsoleRequest& request) {
  const std::string_view id = session_id(request.cookie_headers);
  auto session = sessions_.find(id, clock_.now_seconds());
  if (!session) return error_answer(401, "NO_SESSION", "sign in to the console");
  if (!sessions_.csrf_matches(id, request.csrf_token.value_or(""))) {
    return csrf_rejected("the X-CSRF-Token header is missing or not this session's");
  }
  sessions_.close(id);
  auth::audit("console_sign_out", {{"admin", session->admin}, {"client", request.client_address}});
  return {204,
          {{"Set-Cookie",
            std::string(kCookieName) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"}},
          ""};
}

std::optional<std::string> Console::session_admin(
    const std::vector<std::string_view>& cookie_headers) {
  auto session = sessions_.find(session_id(cookie_headers), clock_.now_seconds());
  if (!session) return std::nullopt;
  return session->admin;
}

bool Console::csrf_accepted(const std::vector<std::string_view>& cookie_headers,
                            std::optional<std::string_view> csrf_token) const {
  return csrf_token && sessions_.csrf_matches(session_id(cookie_headers), *csrf_token);
}

}  // namespace jotgate::console
