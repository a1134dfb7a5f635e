// GET/POST /virtual-proxies, GET/PUT/PATCH/DELETE /virtual-proxies/{prefix}: the virtual proxies in
// force, and changes of those kept in the database.
#include <spdlog/spdlog.h>

#include "admin/api_routes.h"
#include "auth/audit.h"
#include "config/virtual_proxy_document.h"

namespace jotgate::admin {

namespace {

// A virtual proxy as the API shows it: its document with where it comes from.
json shown_virtual_proxy(const config::VirtualProxy& vp) {
  json document = config::virtual_proxy_document(vp);
  document["source"] = vp.from_database ? "database" : "file";
  document["readOnly"] = !vp.from_database;
  return document;
}

// The body of POST (`path_prefix` none), PUT or PATCH (`patched`: the virtual proxy in force it
// changes): a JSON object whose prefix, for a PUT or PATCH, is the path's or left out (then it
// is the path's); "source" and "readOnly" are ignored. The document to store, or the answer
// refusing it.
std::variant<std::string, Answer> virtual_proxy_body(const ApiRequest& request,
                                                     const std::optional<std::string>& path_prefix,
                                                     const config::VirtualProxy* patched) {
  auto object = json_object_body(request);
  if (auto* refusal = std::get_if<Answer>(&object)) return std::move(*refusal);
  json& body = std::get<json>(object);
  if (patched != nullptr) {
    // PATCH: a JSON merge patch (RFC 7396) of the document in force; null removes a key.
    json merged = config::virtual_proxy_document(*patched);
    merged.merge_patch(body);
    body = std::move(merged);
  }
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

}  // namespace

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
    const auto config = backend.configuration();
    const config::VirtualProxy* patched = nullptr;
    if (request.method == "PATCH") {
      if (config) {
        for (const config::VirtualProxy& vp : config->virtual_proxies) {
          if (vp.prefix == *path_prefix) patched = &vp;
        }
      }
      if (patched == nullptr) return virtual_proxy_not_found();
    }
    auto document = virtual_proxy_body(request, path_prefix, patched);
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

}  // namespace jotgate::admin
