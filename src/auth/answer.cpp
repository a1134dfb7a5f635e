#include "auth/answer.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "base/text.h"

namespace jotgate::auth {

namespace {

// A quoted-string parameter value that cannot break out of its quotes or the header.
std::string header_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"') out += '\'';
    else if (c == '\\' || is_control(c) || static_cast<unsigned char>(c) > 0x7f) out += ' ';
    else out += c;
  }
  return out;
}

bool is_token_reason(Reason reason) {
  return reason != Reason::kNoCredentials && reason != Reason::kSessionExpired &&
         reason != Reason::kAccessDenied && reason != Reason::kAuthorizationRepeated;
}

}  // namespace

bool wants_json(std::optional<std::string_view> accept) {
  if (!accept) return false;
  const std::string value = to_lower(*accept);
  bool wanted = false;
  for_each_list_element(value, [&](std::string_view range) {
    const std::size_t semi = range.find(';');
    if (trim_ows(range.substr(0, semi)) != "application/json") return;
    std::string params(semi == std::string_view::npos ? std::string_view() : range.substr(semi));
    params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
    // "q=0" (or 0.0...) means "not acceptable".
    if (std::size_t q = params.find(";q="); q != std::string::npos) {
      if (std::strtod(params.c_str() + q + 3, nullptr) <= 0.0) return;
    }
    wanted = true;
  });
  return wanted;
}

Decision refuse(Reason reason, const AnswerContext& context) {
  Decision d;
  d.allowed = false;
  d.reason = reason;
  std::string message;
  if (reason == Reason::kAccessDenied) {
    d.status = 403;
    message = "Access denied: " + (context.user != nullptr ? context.user->qualified() : "") +
              " has no access allocation";
  } else if (reason == Reason::kAuthorizationRepeated) {
    // Malformed, not unauthenticated: no challenge.
    d.status = 400;
    message = "Bad Request: " + std::string(reason_message(reason));
  } else if (is_token_reason(reason)) {
    d.status = 401;
    const std::string description = header_safe(reason_message(reason));
    d.response_headers.emplace_back(
        "WWW-Authenticate",
        "Bearer error=\"invalid_token\", error_description=\"" + description + "\"");
    message = "Could not authenticate the request: " + std::string(reason_message(reason));
  } else {
    // No credentials and an expired session answer alike: an expired session is none.
    d.status = 401;
    d.response_headers.emplace_back("WWW-Authenticate",
                                    "Bearer realm=\"" + header_safe(context.realm) + "\"");
    message = std::string(reason_message(Reason::kNoCredentials));
  }
  const std::string_view code =
      reason == Reason::kSessionExpired ? reason_code(Reason::kNoCredentials) : reason_code(reason);
  if (context.json) {
    d.response_headers.emplace_back("Content-Type", "application/json");
    d.body = nlohmann::json{{"error", code}, {"message", message}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    d.response_headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    d.body = message;
  }
  return d;
}

}  // namespace jotgate::auth
