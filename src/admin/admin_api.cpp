#include "admin/admin_api.h"

#include <algorithm>
#include <charconv>
#include <memory>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "access/access_store.h"
#include "admin/overview.h"
#include "auth/access_cache.h"
#include "auth/audit.h"
#include "auth/audit_history.h"
#include "auth/credential.h"
#include "auth/gate.h"
#include "base/percent_encoding.h"
#include "base/text.h"
#include "base/timestamp.h"
#include "config/virtual_proxy_document.h"

namespace jotgate::admin {

namespace {

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

// The segments after /api/v1/, each percent-decoded; nullopt when the path is not under it or
// holds an empty segment. `malformed` is set for a broken percent-encoding.
std::optional<std::vector<std::string>> api_segments(std::string_view target, bool& malformed) {
  constexpr std::string_view kBase = "/api/v1/";
  std::string_view path = target.substr(0, target.find('?'));
  if (!path.starts_with(kBase)) return std::nullopt;
  path.remove_prefix(kBase.size());
  std::vector<std::string> segments;
  for (;;) {
    std::size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (segment.empty()) return std::nullopt;
    auto decoded = percent_decode(segment);
    if (!decoded) {
      malformed = true;
      return std::nullopt;
    }
    segments.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

Route match(std::string_view target, bool& malformed) {
  auto segments = api_segments(target, malformed);
  if (!segments) return {};
  const auto& s = *segments;
  if (s[0] == "virtual-proxies" && s.size() == 1) {
    return {RouteId::kVirtualProxies, "/virtual-proxies", "GET, POST", {}};
  }
  if (s[0] == "virtual-proxies" && s.size() == 2) {
    return {RouteId::kVirtualProxy, "/virtual-proxies/{prefix}", "GET, PUT, DELETE", {s[1]}};
  }
  if (s[0] == "virtual-proxies" && s.size() == 3 && s[2] == "tickets") {
    return {RouteId::kTickets, "/virtual-proxies/{prefix}/tickets", "POST", {s[1]}};
  }
  if (s[0] == "virtual-proxies" && s.size() == 3 && s[2] == "sessions") {
    return {RouteId::kSessions, "/virtual-proxies/{prefix}/sessions", "GET, POST", {s[1]}};
  }
  if (s[0] == "virtual-proxies" && s.size() == 4 && s[2] == "sessions") {
    return {
        RouteId::kSession, "/virtual-proxies/{prefix}/sessions/{id}", "GET, DELETE", {s[1], s[3]}};
  }
  if (s[0] == "virtual-proxies" && s.size() == 3 && s[2] == "token-check") {
    return {RouteId::kTokenCheck, "/virtual-proxies/{prefix}/token-check", "POST", {s[1]}};
  }
  if (s[0] == "config" && s.size() == 2 && s[1] == "reload") {
    return {RouteId::kConfigReload, "/config/reload", "POST", {}};
  }
  if (s[0] == "revocations" && s.size() == 1) {
    return {RouteId::kRevocations, "/revocations", "GET, POST", {}};
  }
  if (s[0] == "revocations" && s.size() == 2) {
    return {RouteId::kRevocation, "/revocations/{id}", "DELETE", {s[1]}};
  }
  if (s[0] == "overview" && s.size() == 1) return {RouteId::kOverview, "/overview", "GET", {}};
  if (s[0] == "audit" && s.size() == 1) return {RouteId::kAudit, "/audit", "GET", {}};
  if (s[0] == "allocations" && s.size() == 1) {
    return {RouteId::kAllocations, "/allocations", "GET, POST", {}};
  }
  if (s[0] == "allocations" && s.size() == 3) {
    return {RouteId::kAllocation, "/allocations/{directory}/{id}", "DELETE", {s[1], s[2]}};
  }
  if (s[0] == "users" && s.size() == 4 && s[3] == "sessions") {
    return {
        RouteId::kUserSessions, "/users/{directory}/{id}/sessions", "GET, DELETE", {s[1], s[2]}};
  }
  return {};
}

bool method_allowed(std::string_view allow, std::string_view method) {
  bool allowed = false;
  for_each_list_element(allow, [&](std::string_view one) { allowed = allowed || one == method; });
  return allowed;
}

// Audit values come from clients: bounded, so that one call cannot write a huge line (audit()
// quotes and escapes them).
std::string_view bounded(std::string_view text) { return text.substr(0, 256); }

Answer json_answer(int status, const json& body) {
  return {status,
          {{"Content-Type", "application/json"}},
          body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Answer error_answer(int status, std::string_view code, std::string_view message) {
  return json_answer(status, {{"error", code}, {"message", message}});
}

struct FieldError {
  std::string field;
  std::string message;
};

Answer validation_failed(const std::vector<FieldError>& errors) {
  json list = json::array();
  for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
  return json_answer(400, {{"error", "VALIDATION_FAILED"}, {"errors", list}});
}

// What a ticket or session request names: the user, attributes and (tickets) target URI.
struct UserRequest {
  UserIdentity user;
  auth::HeaderList attributes;
  std::string target_uri;
};

bool is_json_media_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  return iequals(trim_ows(content_type->substr(0, content_type->find(';'))), "application/json");
}

// The JSON object a POST carries, or the answer refusing it (415, 400).
std::variant<json, Answer> json_object_body(const ApiRequest& request) {
  if (!is_json_media_type(request.content_type)) {
    return error_answer(415, "UNSUPPORTED_MEDIA_TYPE",
                        "the body must be JSON, sent with Content-Type: application/json");
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return validation_failed({{"(body)", "is not valid JSON"}});
  if (!body.is_object()) return validation_failed({{"(body)", "must be a JSON object"}});
  return body;
}

// A required non-empty string member, or its error.
void read_required_string(const json& body, const char* name, std::string& target,
                          std::vector<FieldError>& errors) {
  auto it = body.find(name);
  if (it == body.end()) {
    errors.push_back({name, "is required"});
  } else if (!it->is_string()) {
    errors.push_back({name, "must be a string"});
  } else if (it->get_ref<const std::string&>().empty()) {
    errors.push_back({name, "must not be empty"});
  } else {
    target = it->get<std::string>();
  }
}

// The body of POST .../tickets (with_target) or .../sessions, or the answer refusing it.
std::variant<UserRequest, Answer> parse_user_request(const ApiRequest& request, bool with_target) {
  auto object = json_object_body(request);
  if (auto* refusal = std::get_if<Answer>(&object)) return std::move(*refusal);
  const json& body = std::get<json>(object);

  UserRequest parsed;
  std::vector<FieldError> errors;
  read_required_string(body, "userDirectory", parsed.user.directory, errors);
  read_required_string(body, "userId", parsed.user.id, errors);
  if (auto it = body.find("attributes"); it != body.end()) {
    if (!it->is_object()) {
      errors.push_back({"attributes", "must be an object of strings"});
    } else {
      for (const auto& [name, value] : it->items()) {
        if (!value.is_string()) {
          errors.push_back({"attributes." + name, "must be a string"});
        } else {
          parsed.attributes.emplace_back(name, value.get<std::string>());
        }
      }
    }
  }
  if (auto it = body.find("targetUri"); with_target && it != body.end()) {
    if (!it->is_string()) {
      errors.push_back({"targetUri", "must be a string"});
    } else {
      parsed.target_uri = it->get<std::string>();
    }
  }
  for (const auto& [name, value] : body.items()) {
    const bool known = name == "userDirectory" || name == "userId" || name == "attributes" ||
                       (with_target && name == "targetUri");
    if (!known) errors.push_back({name, "is not a known field"});
  }
  if (!errors.empty()) return validation_failed(errors);
  return parsed;
}

// SessionAdmin's refusals in HTTP: an error naming a field of the body is a field error.
Answer gate_refusal(const Error& error) {
  if (error.reason == Reason::kAccessDenied) {
    return error_answer(403, "ACCESS_DENIED", error.message());
  }
  if (!error.field.empty()) {
    return validation_failed(
        {{error.field,
          error.detail.empty() ? std::string(reason_message(error.reason)) : error.detail}});
  }
  if (error.reason == Reason::kBadRequest || error.reason == Reason::kIdentityInvalid) {
    return validation_failed({{"(body)", error.message()}});
  }
  if (error.reason == Reason::kSessionStoreUnavailable) {
    Answer answer = error_answer(503, reason_code(error.reason), error.message());
    answer.headers.emplace_back("Retry-After", std::to_string(kSessionStoreRetryAfterSeconds));
    return answer;
  }
  return error_answer(500, reason_code(error.reason), error.message());
}

// The body of POST /revocations: {"jti"} or {"userDirectory", "userId"}, with an optional
// "until" (Unix seconds, or RFC 3339 in a string) in the future; or the answer refusing it.
std::variant<access::Revocation, Answer> parse_revocation(const ApiRequest& request,
                                                          UnixSeconds now) {
  auto object = json_object_body(request);
  if (auto* refusal = std::get_if<Answer>(&object)) return std::move(*refusal);
  const json& body = std::get<json>(object);

  access::Revocation parsed;
  parsed.revoked_at = now;
  std::vector<FieldError> errors;
  const bool by_token = body.contains("jti");
  const bool by_user = body.contains("userDirectory") || body.contains("userId");
  if (by_token == by_user) {
    errors.push_back({"(body)", by_token ? "give jti or userDirectory and userId, not both"
                                         : "give jti, or userDirectory and userId"});
  } else if (by_token) {
    read_required_string(body, "jti", parsed.jti, errors);
  } else {
    parsed.kind = access::Revocation::Kind::kUser;
    read_required_string(body, "userDirectory", parsed.user.directory, errors);
    read_required_string(body, "userId", parsed.user.id, errors);
    if (errors.empty() && !auth::valid_identity(parsed.user)) {
      errors.push_back({"(body)", std::string(reason_message(Reason::kIdentityInvalid))});
    }
  }
  if (auto it = body.find("until"); it != body.end()) {
    if (it->is_number_unsigned()) {
      parsed.until = parse_timestamp(std::to_string(it->get<std::uint64_t>()));
    } else if (it->is_string()) {
      parsed.until = parse_timestamp(it->get<std::string>());
    }
    if (!parsed.until) {
      errors.push_back({"until", "must be a time: Unix seconds, or RFC 3339 in a string"});
    } else if (*parsed.until <= now) {
      errors.push_back({"until", "must be in the future"});
    }
  }
  for (const auto& [name, value] : body.items()) {
    const bool known =
        name == "jti" || name == "userDirectory" || name == "userId" || name == "until";
    if (!known) errors.push_back({name, "is not a known field"});
  }
  if (!errors.empty()) return validation_failed(errors);
  return parsed;
}

json revocation_json(const access::Revocation& r) {
  json out{{"id", r.id}};
  if (r.kind == access::Revocation::Kind::kUser) {
    out["kind"] = "user";
    out["userDirectory"] = r.user.directory;
    out["userId"] = r.user.id;
  } else {
    out["kind"] = "jti";
    out["jti"] = r.jti;
  }
  out["revokedAt"] = r.revoked_at;
  out["until"] = r.until ? json(*r.until) : json(nullptr);
  return out;
}

// The revocation id of DELETE /revocations/{id}: decimal digits only.
std::optional<std::int64_t> revocation_id(const std::string& text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

Answer storage_failure(const Error& error) {
  spdlog::error("admin API: revocations: {}", error.message());
  if (error.reason == Reason::kDatabaseUnavailable) {
    // PostgreSQL unreachable: the revocations in force still apply; try again later.
    return error_answer(503, reason_code(error.reason), error.message());
  }
  return error_answer(500, reason_code(error.reason), "the revocations could not be stored");
}

json session_json(const auth::SessionRecord& session) {
  json attributes = json::object();
  for (const auto& [name, value] : session.attributes) attributes[name] = value;
  return {{"sessionId", session.id},
          {"cookieName", session.cookie_name},
          {"expiresAt", session.expires_at},
          {"virtualProxy", session.virtual_proxy},
          {"userDirectory", session.user.directory},
          {"userId", session.user.id},
          {"attributes", attributes}};
}

// GET/POST /revocations, DELETE /revocations/{id}. `user_name`: the user revoked, for the audit.
Answer revocations_answer(AdminBackend& backend, UnixSeconds now, const ApiRequest& request,
                          const Route& route, std::string& user_name) {
  const std::shared_ptr<auth::Revocations> revocations = backend.revocations();
  if (route.id == RouteId::kRevocation) {
    auto id = revocation_id(route.params[0]);
    auto lifted = id ? revocations->lift(*id) : Result<bool>(false);
    if (!lifted) return storage_failure(lifted.error());
    if (*lifted) return {204, {}, ""};
    return error_answer(404, "REVOCATION_NOT_FOUND", "no revocation has this id");
  }
  if (request.method == "GET") {
    auto list = revocations->list();
    if (!list) return storage_failure(list.error());
    json entries = json::array();
    for (const auto& r : *list) entries.push_back(revocation_json(r));
    return json_answer(200, {{"revocations", entries}});
  }
  auto parsed = parse_revocation(request, now);
  if (auto* refusal = std::get_if<Answer>(&parsed)) return std::move(*refusal);
  auto& revocation = std::get<access::Revocation>(parsed);
  if (revocation.kind == access::Revocation::Kind::kUser) user_name = revocation.user.qualified();
  auto added = revocations->add(std::move(revocation));
  if (!added) return storage_failure(added.error());
  return json_answer(201, revocation_json(*added));
}

// The percent-decoded value of query parameter `name` of the request's target ("" when absent;
// nullopt for a broken percent-encoding).
std::optional<std::string> query_value(const ApiRequest& request, std::string_view name) {
  const std::size_t mark = request.target.find('?');
  if (mark == std::string_view::npos) return std::string();
  auto raw = query_param(request.target.substr(mark + 1), name);
  if (!raw) return std::string();
  return percent_decode(*raw, /*plus_is_space=*/true);
}

// `limit` of a listing: 1 to `most`, `fallback` when absent; nullopt when not such a number.
std::optional<std::size_t> limit_value(const std::string& text, std::size_t fallback,
                                       std::size_t most) {
  if (text.empty()) return fallback;
  std::size_t limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size() || limit == 0 || limit > most) {
    return std::nullopt;
  }
  return limit;
}

// The query parameters `names` of a listing, decoded, in that order; or the answer refusing
// them (400 VALIDATION_FAILED naming each broken one).
std::variant<std::vector<std::string>, Answer> query_values(
    const ApiRequest& request, std::initializer_list<std::string_view> names) {
  std::vector<std::string> values;
  std::vector<FieldError> errors;
  for (std::string_view name : names) {
    auto value = query_value(request, name);
    if (!value) errors.push_back({std::string(name), "malformed percent-encoding"});
    values.push_back(value.value_or(""));
  }
  if (!errors.empty()) return validation_failed(errors);
  return values;
}

json optional_time(const std::optional<UnixSeconds>& t) { return t ? json(*t) : json(nullptr); }

json overview_json(const Overview& overview, UnixSeconds now) {
  json listeners = json::array();
  for (const auto& l : overview.listeners) {
    listeners.push_back(
        {{"name", l.name}, {"address", l.address}, {"tls", l.tls}, {"connections", l.connections}});
  }
  json vps = json::array();
  for (const auto& vp : overview.virtual_proxies) {
    json upstreams = json::array();
    for (const auto& u : vp.upstreams)
      upstreams.push_back({{"url", u.url}, {"healthy", u.healthy}});
    json keys = json::array();
    for (const auto& k : vp.keys) {
      keys.push_back({{"source", k.source},
                      {"location", k.location},
                      {"count", k.count},
                      {"loadedAt", optional_time(k.loaded_at)},
                      {"ageSeconds", k.loaded_at ? json(now - *k.loaded_at) : json(nullptr)},
                      {"nextRefreshAt", optional_time(k.next_refresh_at)},
                      {"problem", k.problem}});
    }
    vps.push_back({{"name", vp.name},
                   {"prefix", vp.prefix},
                   {"source", vp.source},
                   {"method", vp.method},
                   {"listeners", vp.listeners},
                   {"sessions", vp.sessions},
                   {"upstreams", upstreams},
                   {"keys", keys}});
  }
  json reasons = json::object();
  for (const auto& [label, counts] : overview.decisions.reasons) reasons[label] = counts;
  const auto& reload = overview.last_reload;
  json last_reload = {
      {"at", optional_time(reload.at)},
      {"result", reload.at ? json(reload.report.applied ? "ok" : "error") : json(nullptr)},
      {"problems", reload.report.problems},
      {"warnings", reload.report.warnings}};
  return {{"version", overview.version},
          {"startedAt", overview.started_at},
          {"listeners", listeners},
          {"virtualProxies", vps},
          {"decisions",
           {{"bucketSeconds", overview.decisions.bucket_seconds},
            {"start", overview.decisions.start},
            {"reasons", reasons}}},
          {"lastReload", last_reload}};
}

// GET /audit?user=&vp=&event=&reason=&limit=: the in-memory history, newest first.
Answer audit_answer(const ApiRequest& request) {
  auto values = query_values(request, {"user", "vp", "event", "reason", "limit"});
  if (auto* refusal = std::get_if<Answer>(&values)) return std::move(*refusal);
  auto& v = std::get<std::vector<std::string>>(values);
  auto limit = limit_value(v[4], 100, auth::AuditHistory::kCapacity);
  if (!limit) {
    return validation_failed(
        {{"limit", "must be a number from 1 to " + std::to_string(auth::AuditHistory::kCapacity)}});
  }
  json events = json::array();
  for (const auth::AuditEvent& e : auth::audit_history().recent({v[0], v[1], v[2], v[3], *limit})) {
    json fields = json::object();
    for (const auto& [key, value] : e.fields) fields[key] = value;
    // The administrator: named `admin` by the console's events, `client` by admin_call lines.
    std::string_view admin = e.field("admin");
    if (admin.empty() && e.event == "admin_call") admin = e.field("client");
    events.push_back({{"time", utc_timestamp(e.time)},
                      {"event", e.event},
                      {"vp", e.field("vp")},
                      {"user", e.field("user")},
                      {"reason", e.field("reason")},
                      {"admin", admin},
                      {"fields", fields}});
  }
  return json_answer(200, {{"events", events}, {"capacity", auth::AuditHistory::kCapacity}});
}

json allocation_json(const access::Allocation& a) {
  return {{"userDirectory", a.user.directory},
          {"userId", a.user.id},
          {"grantedAt", a.created_at},
          {"lastUse", optional_time(a.last_used_at)},
          {"auto", a.by_seat}};
}

Answer access_failure(const Error& error) {
  spdlog::error("admin API: access allocations: {}", error.message());
  if (error.reason == Reason::kDatabaseUnavailable) {
    return error_answer(503, reason_code(error.reason), error.message());
  }
  return error_answer(500, reason_code(error.reason),
                      "the access allocations could not be read or changed");
}

// GET/POST /allocations, DELETE /allocations/{directory}/{id}. `user_name`: for the audit.
Answer allocations_answer(AdminBackend& backend, const ApiRequest& request, const Route& route,
                          std::string& user_name) {
  const std::shared_ptr<auth::GateSet> gates = backend.gates();
  if (route.id == RouteId::kAllocation) {
    const UserIdentity user{route.params[0], route.params[1]};
    user_name = user.qualified();
    auto revoked = gates->revoke_access(user);
    if (!revoked) return access_failure(revoked.error());
    if (*revoked) return {204, {}, ""};
    return error_answer(404, "ALLOCATION_NOT_FOUND", user_name + " has no access allocation");
  }
  auth::AccessCache& access = gates->access();
  if (request.method == "POST") {
    auto object = json_object_body(request);
    if (auto* refusal = std::get_if<Answer>(&object)) return std::move(*refusal);
    const json& body = std::get<json>(object);
    UserIdentity user;
    std::vector<FieldError> errors;
    read_required_string(body, "userDirectory", user.directory, errors);
    read_required_string(body, "userId", user.id, errors);
    for (const auto& [name, value] : body.items()) {
      if (name != "userDirectory" && name != "userId")
        errors.push_back({name, "is not a known field"});
    }
    if (errors.empty() && !auth::valid_identity(user)) {
      errors.push_back({"(body)", std::string(reason_message(Reason::kIdentityInvalid))});
    }
    if (!errors.empty()) return validation_failed(errors);
    user_name = user.qualified();
    auto granted = gates->grant_access(user);
    if (!granted) return access_failure(granted.error());
    if (*granted)
      auth::audit("access_granted", {{"user", user_name}, {"admin", request.client.client}});
    auto list = access.allocations();
    if (!list) return access_failure(list.error());
    for (const auto& a : *list) {
      if (a.user == user) return json_answer(*granted ? 201 : 200, allocation_json(a));
    }
    return error_answer(409, "ALLOCATION_NOT_FOUND", user_name + " was revoked meanwhile");
  }
  auto values = query_values(request, {"search", "limit"});
  if (auto* refusal = std::get_if<Answer>(&values)) return std::move(*refusal);
  auto& v = std::get<std::vector<std::string>>(values);
  auto limit = limit_value(v[1], 1000, 100000);
  if (!limit) return validation_failed({{"limit", "must be a number from 1 to 100000"}});
  auto list = access.allocations();
  if (!list) return access_failure(list.error());
  json allocations = json::array();
  std::size_t matching = 0;
  for (const auto& a : *list) {
    const std::string qualified = a.user.qualified();
    if (!v[0].empty() && to_lower(qualified).find(to_lower(v[0])) == std::string::npos) continue;
    if (++matching <= *limit) allocations.push_back(allocation_json(a));
  }
  const std::int64_t total = access.settings().auto_allocate_seats;
  const std::int64_t used = access.seats_used();
  return json_answer(
      200, {{"mode", access.settings().mode == config::AccessMode::kOpen ? "open" : "allocated"},
            {"seats",
             {{"total", total}, {"used", used}, {"left", std::max<std::int64_t>(0, total - used)}}},
            {"matching", matching},
            {"allocations", allocations}});
}

// GET /virtual-proxies/{prefix}/sessions?user=DIR%5Cid&limit=: its live sessions.
Answer virtual_proxy_sessions_answer(auth::SessionAdmin& admin, std::size_t vp,
                                     const ApiRequest& request) {
  auto values = query_values(request, {"user", "limit"});
  if (auto* refusal = std::get_if<Answer>(&values)) return std::move(*refusal);
  auto& v = std::get<std::vector<std::string>>(values);
  std::optional<UserIdentity> user;
  if (!v[0].empty()) {
    user = config::parse_qualified_user(v[0]);
    if (!user) return validation_failed({{"user", "must be DIRECTORY\\id"}});
  }
  auto limit = limit_value(v[1], 1000, 10000);
  if (!limit) return validation_failed({{"limit", "must be a number from 1 to 10000"}});
  json list = json::array();
  for (const auto& session : admin.virtual_proxy_sessions(vp, user, *limit)) {
    list.push_back(session_json(session));
  }
  return json_answer(200, {{"sessions", list}});
}
// ---- /virtual-proxies: the virtual proxies in force, and changes of the stored ones ----

Answer virtual_proxy_not_found() {
  return error_answer(404, "VIRTUAL_PROXY_NOT_FOUND",
                      "no virtual proxy has this prefix (\"~\" names the one at the root)");
}

json token_check_json(std::string_view prefix, const auth::TokenCheck& check) {
  const auto reason_json = [](std::optional<Reason> reason) {
    return reason ? json(reason_code(*reason)) : json(nullptr);
  };
  json checks = json::array();
  for (std::size_t i = 0; i < auth::kCheckStepCount; ++i) {
    const auth::CheckOutcome& outcome = check.steps[i];
    checks.push_back({{"check", auth::check_step_name(static_cast<auth::CheckStep>(i))},
                      {"passed", outcome.passed ? json(*outcome.passed) : json(nullptr)},
                      {"reason", reason_json(outcome.reason)},
                      {"detail", outcome.detail}});
  }
  return {{"virtualProxy", prefix},
          {"header", check.header ? *check.header : json(nullptr)},
          {"claims", check.claims ? *check.claims : json(nullptr)},
          {"checks", checks},
          {"result",
           {{"accepted", check.accepted},
            {"status", check.status},
            {"reason", reason_json(check.reason)},
            {"message", check.message}}}};
}

// POST /virtual-proxies/{prefix}/token-check {"token"}: the token workbench. The token is read
// from the body and checked by the gate in force; it is never stored, cached or logged.
Answer token_check_answer(AdminBackend& backend, const ApiRequest& request, const Route& route) {
  const std::shared_ptr<auth::GateSet> gates = backend.gates();
  auto vp = gates->admin().find_virtual_proxy(route.params[0]);
  if (!vp) return virtual_proxy_not_found();
  auto object = json_object_body(request);
  if (auto* refusal = std::get_if<Answer>(&object)) return std::move(*refusal);
  const json& body = std::get<json>(object);
  std::string token;
  std::vector<FieldError> errors;
  read_required_string(body, "token", token, errors);
  for (const auto& [name, value] : body.items()) {
    if (name != "token") errors.push_back({name, "is not a known field"});
  }
  if (!errors.empty()) return validation_failed(errors);
  const auth::TokenCheck check = gates->gate(*vp).check_token(token);
  return json_answer(200, token_check_json(gates->admin().prefix_of(*vp), check));
}

// A virtual proxy as the API shows it: its document with where it comes from.
json shown_virtual_proxy(const config::VirtualProxy& vp) {
  json document = config::virtual_proxy_document(vp);
  document["source"] = vp.from_database ? "database" : "file";
  document["readOnly"] = !vp.from_database;
  return document;
}

// The body of POST (`path_prefix` none) or PUT: a JSON object whose prefix, for a PUT, is the
// path's or left out (then it is the path's); "source" and "readOnly" are ignored. The document
// to store, or the answer refusing it.
std::variant<std::string, Answer> virtual_proxy_body(
    const ApiRequest& request, const std::optional<std::string>& path_prefix) {
  auto object = json_object_body(request);
  if (auto* refusal = std::get_if<Answer>(&object)) return std::move(*refusal);
  json& body = std::get<json>(object);
  // What GET adds: a document read, edited and sent back is accepted as it is.
  body.erase("source");
  body.erase("readOnly");
  if (path_prefix) {
    auto prefix = body.find("prefix");
    if (prefix == body.end()) {
      body["prefix"] = *path_prefix;
    } else if (!prefix->is_string() || prefix->get_ref<const std::string&>() != *path_prefix) {
      return validation_failed(
          {{"prefix", "must be the prefix of the path (\"" + *path_prefix + "\") or left out"}});
    }
  }
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Answer change_answer(const VirtualProxyChangeResult& result, int applied_status) {
  using Outcome = VirtualProxyChangeResult::Outcome;
  switch (result.outcome) {
    case Outcome::kApplied:
      if (!result.virtual_proxy) return {applied_status, {}, ""};
      return json_answer(applied_status, shown_virtual_proxy(*result.virtual_proxy));
    case Outcome::kInvalid: {
      std::vector<FieldError> errors;
      for (const auto& problem : result.problems) {
        errors.push_back({problem.field.empty() ? "(body)" : problem.field, problem.message});
      }
      return validation_failed(errors);
    }
    case Outcome::kPrefixConflict: {
      json errors = json::array();
      for (const auto& problem : result.problems) {
        errors.push_back({{"field", problem.field}, {"message", problem.message}});
      }
      return json_answer(409, {{"error", "PREFIX_CONFLICT"},
                               {"message", "another virtual proxy has this prefix"},
                               {"errors", errors}});
    }
    case Outcome::kReadOnly:
      return error_answer(409, "VIRTUAL_PROXY_READ_ONLY",
                          "this virtual proxy is defined in the configuration file: change it "
                          "there");
    case Outcome::kNotFound: return virtual_proxy_not_found();
    case Outcome::kConfigInvalid:
      return json_answer(422, {{"error", "CONFIG_INVALID"},
                               {"message",
                                "the configuration file does not load: nothing was stored; the "
                                "configuration in force keeps serving"},
                               {"problems", result.report.problems}});
    case Outcome::kStoreFailed: break;
  }
  spdlog::error("admin API: virtual proxies: {}", result.error.message());
  if (result.error.reason == Reason::kDatabaseUnavailable) {
    return error_answer(503, reason_code(result.error.reason), result.error.message());
  }
  return error_answer(500, reason_code(result.error.reason),
                      "the virtual proxies could not be read or stored");
}

// GET/POST /virtual-proxies, GET/PUT/DELETE /virtual-proxies/{prefix}. A change that applied is
// audited as virtual_proxy_created|updated|deleted naming the administrator.
Answer virtual_proxies_answer(AdminBackend& backend, const ApiRequest& request,
                              const Route& route) {
  const std::optional<std::string> path_prefix =
      route.id == RouteId::kVirtualProxy
          ? std::optional<std::string>(route.params[0] == "~" ? "" : route.params[0])
          : std::nullopt;
  if (request.method == "GET") {
    const auto config = backend.configuration();
    if (!config) return virtual_proxy_not_found();
    json list = json::array();
    for (const config::VirtualProxy& vp : config->virtual_proxies) {
      if (!path_prefix) {
        list.push_back(shown_virtual_proxy(vp));
      } else if (vp.prefix == *path_prefix) {
        return json_answer(200, shown_virtual_proxy(vp));
      }
    }
    if (path_prefix) return virtual_proxy_not_found();
    return json_answer(200, {{"virtualProxies", list}});
  }
  VirtualProxyChange change;
  change.admin = request.client.client;
  change.prefix = path_prefix.value_or("");
  if (request.method == "DELETE") {
    change.kind = VirtualProxyChange::Kind::kRemove;
  } else {
    change.kind =
        path_prefix ? VirtualProxyChange::Kind::kReplace : VirtualProxyChange::Kind::kCreate;
    auto document = virtual_proxy_body(request, path_prefix);
    if (auto* refusal = std::get_if<Answer>(&document)) return std::move(*refusal);
    change.document = std::move(std::get<std::string>(document));
  }
  const VirtualProxyChangeResult result = backend.change_virtual_proxy(change);
  if (result.outcome == VirtualProxyChangeResult::Outcome::kApplied) {
    const char* event = change.kind == VirtualProxyChange::Kind::kCreate ? "virtual_proxy_created"
                        : change.kind == VirtualProxyChange::Kind::kReplace
                            ? "virtual_proxy_updated"
                            : "virtual_proxy_deleted";
    const std::string prefix = result.virtual_proxy ? result.virtual_proxy->prefix : change.prefix;
    auth::audit(event, {{"vp", bounded(prefix)}, {"admin", bounded(change.admin)}});
  }
  const int applied_status = change.kind == VirtualProxyChange::Kind::kCreate   ? 201
                             : change.kind == VirtualProxyChange::Kind::kRemove ? 204
                                                                                : 200;
  return change_answer(result, applied_status);
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace

AdminApi::AdminApi(AdminBackend& backend) : AdminApi(backend, system_clock()) {}

Answer AdminApi::handle(const ApiRequest& request) {
  bool malformed = false;
  const Route route = match(request.target, malformed);
  std::string vp_name;
  std::string user_name;
  if (route.id == RouteId::kUserSessions) {
    user_name = route.params[0] + "\\" + route.params[1];
  } else if (!route.params.empty()) {
    vp_name = route.params[0];
  }

  auto answer = [&]() -> Answer {
    if (!request.client.admitted) {
      Answer refusal =
          error_answer(request.client.status, request.client.error, request.client.message);
      if (request.client.status == 401) {
        std::string challenge = "Bearer realm=\"jotgate-admin\"";
        if (request.client.error == "INVALID_TOKEN") challenge += ", error=\"invalid_token\"";
        refusal.headers.emplace_back("WWW-Authenticate", challenge);
      }
      return refusal;
    }
    if (malformed)
      return error_answer(400, "BAD_REQUEST", "malformed percent-encoding in the path");
    if (route.id == RouteId::kNone) {
      return error_answer(404, "NOT_FOUND", "no such route of the admin API (under /api/v1)");
    }
    if (!method_allowed(route.allow, request.method)) {
      Answer refusal =
          error_answer(405, "METHOD_NOT_ALLOWED", "this route answers " + std::string(route.allow));
      refusal.headers.emplace_back("Allow", route.allow);
      return refusal;
    }
    if (request.body_too_large) {
      return error_answer(413, "PAYLOAD_TOO_LARGE",
                          "the body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    }

    if (route.id == RouteId::kConfigReload) {
      const ReloadReport report = backend_.reload();
      if (!report.applied) {
        // Nothing changed: the problems in the form of `jotgate config check`.
        return json_answer(422, {{"error", "CONFIG_INVALID"},
                                 {"message",
                                  "the configuration was not applied; the one in force "
                                  "keeps serving"},
                                 {"problems", report.problems}});
      }
      return json_answer(200, {{"result", "ok"}, {"warnings", report.warnings}});
    }

    if (route.id == RouteId::kVirtualProxies || route.id == RouteId::kVirtualProxy) {
      return virtual_proxies_answer(backend_, request, route);
    }

    if (route.id == RouteId::kRevocations || route.id == RouteId::kRevocation) {
      return revocations_answer(backend_, clock_.now_seconds(), request, route, user_name);
    }
    if (route.id == RouteId::kOverview)
      return json_answer(200, overview_json(backend_.overview(), clock_.now_seconds()));
    if (route.id == RouteId::kAudit) return audit_answer(request);
    if (route.id == RouteId::kAllocations || route.id == RouteId::kAllocation) {
      return allocations_answer(backend_, request, route, user_name);
    }

    if (route.id == RouteId::kTokenCheck) return token_check_answer(backend_, request, route);

    // The sessions and tickets of the configuration in force, kept for this call.
    const std::shared_ptr<auth::SessionAdmin> sessions = backend_.sessions();
    auth::SessionAdmin& admin_ = *sessions;
    if (route.id == RouteId::kUserSessions) {
      const UserIdentity user{route.params[0], route.params[1]};
      if (request.method == "DELETE") {
        return json_answer(200, {{"ended", admin_.end_user_sessions(user)}});
      }
      json list = json::array();
      for (const auto& session : admin_.user_sessions(user)) list.push_back(session_json(session));
      return json_answer(200, {{"sessions", list}});
    }

    auto vp = admin_.find_virtual_proxy(route.params[0]);
    if (!vp) return virtual_proxy_not_found();
    if (route.id == RouteId::kSession) {
      const std::string& id = route.params[1];
      if (request.method == "DELETE") {
        if (admin_.end_session(*vp, id)) return {204, {}, ""};
      } else if (auto session = admin_.find_session(*vp, id)) {
        user_name = session->user.qualified();
        return json_answer(200, session_json(*session));
      }
      return error_answer(404, "SESSION_NOT_FOUND",
                          "no live session with this id in this virtual proxy");
    }

    if (route.id == RouteId::kSessions && request.method == "GET") {
      return virtual_proxy_sessions_answer(admin_, *vp, request);
    }
    auto parsed = parse_user_request(request, route.id == RouteId::kTickets);
    if (auto* refusal = std::get_if<Answer>(&parsed)) return std::move(*refusal);
    UserRequest& body = std::get<UserRequest>(parsed);
    user_name = body.user.qualified();
    if (route.id == RouteId::kTickets) {
      auto ticket = admin_.issue_ticket(
          *vp, {body.user, std::move(body.attributes), std::move(body.target_uri)});
      if (!ticket) return gate_refusal(ticket.error());
      return json_answer(201, {{"ticket", ticket->ticket},
                               {"expiresAt", ticket->expires_at},
                               {"targetUri", ticket->target_uri},
                               {"virtualProxy", admin_.prefix_of(*vp)}});
    }
    auto session = admin_.create_session(*vp, body.user, std::move(body.attributes));
    if (!session) return gate_refusal(session.error());
    return json_answer(201, session_json(*session));
  };

  Answer response = answer();
  response.headers.emplace_back("Cache-Control", "no-store");
  auth::audit("admin_call",
              {{"method", bounded(request.method)},
               {"route", route.name},
               {"vp", bounded(vp_name)},
               {"user", bounded(user_name)},
               {"client", bounded(request.client.admitted ? request.client.client : "")},
               {"status", std::to_string(response.status)}});
  return response;
}

}  // namespace jotgate::admin
