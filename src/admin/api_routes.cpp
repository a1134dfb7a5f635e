#include "admin/api_routes.h"

#include <charconv>

#include "base/percent_encoding.h"
#include "base/text.h"

namespace jotgate::admin {

std::string_view bounded(std::string_view text) { return text.substr(0, 256); }

Answer json_answer(int status, const json& body) {
  return {status,
          {{"Content-Type", "application/json"}},
          body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Answer validation_failed(const std::vector<FieldError>& errors) {
  json list = json::array();
  for (const auto& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
  return json_answer(400, {{"error", "VALIDATION_FAILED"}, {"errors", list}});
}

bool is_json_media_type(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  return iequals(trim_ows(content_type->substr(0, content_type->find(';'))), "application/json");
}

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

std::optional<std::string> query_value(const ApiRequest& request, std::string_view name) {
  const std::size_t mark = request.target.find('?');
  if (mark == std::string_view::npos) return std::string();
  auto raw = query_param(request.target.substr(mark + 1), name);
  if (!raw) return std::string();
  return percent_decode(*raw, /*plus_is_space=*/true);
}

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

Answer virtual_proxy_not_found() {
  return error_answer(404, "VIRTUAL_PROXY_NOT_FOUND",
                      "no virtual proxy has this prefix (\"~\" names the one at the root)");
}

}  // namespace jotgate::admin
