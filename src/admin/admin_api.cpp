#include "admin/admin_api.h"

#include <algorithm>
#include <charconv>
#include <memory>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "access/access_store.h"
#include "admin/api_routes.h"
#include "admin/overview.h"
#include "auth/audit.h"
#include "auth/credential.h"
#include "base/percent_encoding.h"
#include "base/text.h"
#include "base/timestamp.h"

namespace jotgate::admin {

namespace {

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
    return {RouteId::kVirtualProxy, "/virtual-proxies/{prefix}", "GET, PUT, PATCH, DELETE", {s[1]}};
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

// What a ticket or session request names: the user, attributes and (tickets) target URI.
struct UserRequest {
  UserIdentity user;
  auth::HeaderList attributes;
  std::string target_uri;
};

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
