// What the console reads besides the virtual proxies: the overview, the audit history, access
// allocations, a virtual proxy's sessions, and the token workbench's check.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "access/access_store.h"
#include "admin/api_routes.h"
#include "admin/overview.h"
#include "auth/access_cache.h"
#include "auth/audit.h"
#include "auth/audit_history.h"
#include "auth/credential.h"
#include "auth/gate.h"
#include "base/text.h"
#include "base/timestamp.h"
#include "config/gateway_config.h"

namespace jotgate::admin {

namespace {

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

}  // namespace

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

}  // namespace jotgate::admin
