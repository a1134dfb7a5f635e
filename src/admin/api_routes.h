// The admin API's pieces shared by its route files (internal to src/admin): the matched route,
// JSON answers and field errors, request bodies and query values, and the entry point of each
// family of routes: admin_api.cpp (tickets, sessions, revocations, reload),
// virtual_proxy_routes.cpp (/virtual-proxies) and console_routes.cpp (overview, audit,
// allocations, session lists, token check).
//   if (route.id == RouteId::kAudit) return audit_answer(request);
//   return validation_failed({{"limit", "must be a number from 1 to 1000"}});
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/admin_backend.h"
#include "auth/session_admin.h"
#include "base/answer.h"
#include "base/clock.h"

namespace jotgate::admin {

struct Overview;

using json = nlohmann::json;

enum class RouteId {
  kNone,
  kTickets,
  kSessions,
  kSession,
  kUserSessions,
  kConfigReload,
  kRevocations,
  kRevocation,
  kOverview,
  kAudit,
  kAllocations,
  kAllocation,
  kTokenCheck,
  kVirtualProxies,
  kVirtualProxy
};

// A matched route: which one, its template (what the audit log shows instead of the raw path,
// which may hold a session id) and its percent-decoded parameters.
struct Route {
  RouteId id = RouteId::kNone;
  std::string_view name;  // "" when no route matched
  std::string_view allow;
  std::vector<std::string> params;
};

// Audit values come from clients: bounded, so that one call cannot write a huge line (audit()
// quotes and escapes them).
std::string_view bounded(std::string_view text);

// An answer with a JSON body (Content-Type: application/json; invalid UTF-8 replaced).
Answer json_answer(int status, const json& body);

// One problem of a request: the body member or query parameter, and what is wrong with it.
struct FieldError {
  std::string field;
  std::string message;
};

// 400 {"error":"VALIDATION_FAILED","errors":[{"field","message"}, ...]}: every problem at once.
Answer validation_failed(const std::vector<FieldError>& errors);

// Content-Type application/json, with or without parameters.
bool is_json_media_type(std::optional<std::string_view> content_type);

// The JSON object a POST carries, or the answer refusing it (415, 400).
std::variant<json, Answer> json_object_body(const ApiRequest& request);

// A required non-empty string member, or its error.
void read_required_string(const json& body, const char* name, std::string& target,
                          std::vector<FieldError>& errors);

// A session as every session route shows it (sessionId is the cookie value: a secret).
json session_json(const auth::SessionRecord& session);

// The percent-decoded value of query parameter `name` of the request's target ("" when absent;
// nullopt for a broken percent-encoding).
std::optional<std::string> query_value(const ApiRequest& request, std::string_view name);

// `limit` of a listing: 1 to `most`, `fallback` when absent; nullopt when not such a number.
std::optional<std::size_t> limit_value(const std::string& text, std::size_t fallback,
                                       std::size_t most);

// The query parameters `names` of a listing, decoded, in that order; or the answer refusing
// them (400 VALIDATION_FAILED naming each broken one).
std::variant<std::vector<std::string>, Answer> query_values(
    const ApiRequest& request, std::initializer_list<std::string_view> names);

// Unix seconds, or null.
json optional_time(const std::optional<UnixSeconds>& t);

// 404 VIRTUAL_PROXY_NOT_FOUND.
Answer virtual_proxy_not_found();

// The route families: each answers the routes its name says.

// GET/POST /virtual-proxies, GET/PUT/PATCH/DELETE /virtual-proxies/{prefix}. A change that applied
// is audited as virtual_proxy_created|updated|deleted naming the administrator.
Answer virtual_proxies_answer(AdminBackend& backend, const ApiRequest& request, const Route& route);

// GET /overview: what the backend gathered, as JSON (key ages at `now`).
json overview_json(const Overview& overview, UnixSeconds now);

// GET /audit?user=&vp=&event=&reason=&limit=: the in-memory history, newest first.
Answer audit_answer(const ApiRequest& request);

// GET/POST /allocations, DELETE /allocations/{directory}/{id}. `user_name`: for the audit.
Answer allocations_answer(AdminBackend& backend, const ApiRequest& request, const Route& route,
                          std::string& user_name);

// GET /virtual-proxies/{prefix}/sessions?user=DIR%5Cid&limit=: its live sessions.
Answer virtual_proxy_sessions_answer(auth::SessionAdmin& admin, std::size_t vp,
                                     const ApiRequest& request);

// POST /virtual-proxies/{prefix}/token-check {"token"}: the token workbench. The token is read
// from the body and checked by the gate in force; it is never stored, cached or logged.
Answer token_check_answer(AdminBackend& backend, const ApiRequest& request, const Route& route);

}  // namespace jotgate::admin
