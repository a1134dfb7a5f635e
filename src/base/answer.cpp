#include "base/answer.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "base/text.h"

namespace jotgate {

namespace {

// A quoted-string parameter value that cannot break out of its quotes or the header.
std::string header_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"')
      out += '\'';
    else if (c == '\\' || is_control(c) || static_cast<unsigned char>(c) > 0x7f)
      out += ' ';
    else
      out += c;
  }
  return out;
}

// Refusals of a credential: a token (or ticket, or header) that did not prove a user.
bool is_credential_reason(Reason reason) {
  switch (reason) {
    case Reason::kTokenTooLarge:
    case Reason::kTokenMalformed:
    case Reason::kTokenEncrypted:
    case Reason::kBase64UrlMalformed:
    case Reason::kHeaderNotJsonObject:
    case Reason::kPayloadNotJsonObject:
    case Reason::kDuplicateMember:
    case Reason::kAlgMissing:
    case Reason::kAlgNone:
    case Reason::kAlgNotAllowed:
    case Reason::kAlgKeyMismatch:
    case Reason::kCritUnsupported:
    case Reason::kNoMatchingKey:
    case Reason::kKeyNotFound:
    case Reason::kSignatureMismatch:
    case Reason::kSignatureMalformed:
    case Reason::kClaimMalformed:
    case Reason::kTokenExpired:
    case Reason::kTokenRevoked:
    case Reason::kTokenNotYetValid:
    case Reason::kIssuerMismatch:
    case Reason::kIssuerUnknown:
    case Reason::kAudienceMismatch:
    case Reason::kRequiredClaimMissing:
    case Reason::kIdentityClaimMissing:
    case Reason::kIdentityInvalid:
    case Reason::kTicketInvalid:
    case Reason::kCredentialsNotAccepted:
    case Reason::kHeaderUntrusted: return true;
    default: return false;
  }
}

Answer with_body(Answer answer, std::string_view code, const std::string& message, bool json) {
  if (json) {
    answer.headers.emplace_back("Content-Type", "application/json");
    answer.body = nlohmann::json{{"error", code}, {"message", message}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    answer.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    answer.body = message;
  }
  return answer;
}

}  // namespace

Answer error_answer(int status, std::string_view code, std::string_view message) {
  return with_body({status, {}, {}}, code, std::string(message), /*json=*/true);
}

int http_status(Reason reason) {
  if (is_credential_reason(reason)) return 401;
  switch (reason) {
    case Reason::kNoCredentials:
    case Reason::kSessionExpired: return 401;
    case Reason::kAccessDenied:
    case Reason::kHostNotAllowed:
    case Reason::kOriginNotAllowed:
    case Reason::kEndpointOriginNotAllowed: return 403;
    case Reason::kNotFound:
    case Reason::kRouteNotFound: return 404;
    case Reason::kMethodNotAllowed: return 405;
    case Reason::kBodyTimeout: return 408;
    case Reason::kFormTooLarge: return 413;
    case Reason::kRequestLineTooLong: return 414;
    case Reason::kUnsupportedMediaType: return 415;
    case Reason::kTooManyFailures: return 429;
    case Reason::kHeaderTooLarge:
    case Reason::kTooManyHeaders: return 431;
    case Reason::kCodingNotImplemented: return 501;
    case Reason::kUpstreamUnavailable: return 502;
    case Reason::kKeysUnavailable:
    case Reason::kKeysRefreshing:
    case Reason::kSessionStoreUnavailable:
    case Reason::kDatabaseUnavailable:
    case Reason::kStorePending: return 503;
    case Reason::kUpstreamTimeout: return 504;
    case Reason::kBadRequest:
    case Reason::kAuthorizationRepeated:
    case Reason::kIdentityUnforwardable:
    case Reason::kRequestMalformed:
    case Reason::kObsFold:
    case Reason::kFramingInvalid:
    case Reason::kHostMissing:
    case Reason::kBodyMalformed: return 400;
    default: return 500;
  }
}

std::string_view status_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
  }
}

Answer answer_for(const Error& error, const AnswerContext& context) {
  const Reason reason = error.reason;
  Answer answer;
  answer.status = http_status(reason);
  if (reason == Reason::kAccessDenied) {
    return with_body(
        std::move(answer), reason_code(reason),
        "Access denied: " + (context.user != nullptr ? context.user->qualified() : "") +
            " has no access allocation",
        context.json);
  }
  if (reason == Reason::kAuthorizationRepeated) {
    // Malformed, not unauthenticated: no challenge.
    return with_body(std::move(answer), reason_code(reason),
                     "Bad Request: " + std::string(reason_message(reason)), context.json);
  }
  if (reason == Reason::kKeysUnavailable) {
    // The gateway's fault, not the token's: no challenge, and a client may try again soon.
    answer.headers.emplace_back("Retry-After", std::to_string(kKeysRetryAfterSeconds));
    return with_body(std::move(answer), reason_code(reason),
                     "Service Unavailable: " + std::string(reason_message(reason)), context.json);
  }
  if (reason == Reason::kSessionStoreUnavailable) {
    // Not 401: the user's session may well exist; no challenge, and the store is back soon.
    answer.headers.emplace_back("Retry-After", std::to_string(kSessionStoreRetryAfterSeconds));
    return with_body(std::move(answer), reason_code(reason),
                     "Could not authenticate the request: " + std::string(reason_message(reason)),
                     context.json);
  }
  if (reason == Reason::kTooManyFailures) {
    // Not a challenge: no credential helps until the window frees a slot.
    answer.headers.emplace_back(
        "Retry-After", std::to_string(std::max<std::int64_t>(context.retry_after_seconds, 1)));
    return with_body(std::move(answer), reason_code(reason),
                     "Too Many Requests: " + std::string(reason_message(reason)), context.json);
  }
  if (is_credential_reason(reason)) {
    answer.headers.emplace_back("WWW-Authenticate",
                                "Bearer error=\"invalid_token\", error_description=\"" +
                                    header_safe(reason_message(reason)) + "\"");
    return with_body(std::move(answer), reason_code(reason),
                     "Could not authenticate the request: " + std::string(reason_message(reason)),
                     context.json);
  }
  if (answer.status == 401) {
    // No credentials and an expired session answer alike: an expired session is none.
    answer.headers.emplace_back("WWW-Authenticate",
                                "Bearer realm=\"" + header_safe(context.realm) + "\"");
    return with_body(std::move(answer), reason_code(Reason::kNoCredentials),
                     std::string(reason_message(Reason::kNoCredentials)), context.json);
  }
  answer.body = std::string(status_phrase(answer.status)) + ": " +
                (error.detail.empty() ? std::string(reason_message(reason)) : error.detail);
  return answer;
}

bool wants_json(std::optional<std::string_view> accept) {
  if (!accept) return false;
  const std::string value = to_lower(*accept);
  bool wanted = false;
  for_each_list_element(value, [&](std::string_view range) {
    const std::size_t semi = range.find(';');
    if (trim_ows(range.substr(0, semi)) != "application/json") return;
    std::string params(semi == std::string_view::npos ? std::string_view() : range.substr(semi));
    std::erase(params, ' ');
    // "q=0" (or 0.0...) means "not acceptable".
    if (std::size_t q = params.find(";q="); q != std::string::npos) {
      if (std::strtod(params.c_str() + q + 3, nullptr) <= 0.0) return;
    }
    wanted = true;
  });
  return wanted;
}

}  // namespace jotgate
