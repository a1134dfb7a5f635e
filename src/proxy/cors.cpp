#include "proxy/cors.h"

#include <algorithm>
#include <cctype>

namespace jotgate::proxy {

namespace http = boost::beast::http;

namespace {

// A header list as a client may ask for it: tokens, commas and spaces only (it is echoed).
bool header_list(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ',' ||
           c == ' ';
  });
}

bool method_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c));
  });
}

}  // namespace

std::optional<std::string_view> CorsPolicy::allowed(std::optional<std::string_view> origin) const {
  if (!origin) return std::nullopt;
  for (const auto& candidate : allowed_) {
    if (candidate == *origin) return std::string_view(candidate);
  }
  return std::nullopt;
}

void CorsPolicy::add_headers(http::fields& fields, std::string_view origin) const {
  fields.erase(http::field::access_control_allow_origin);
  fields.erase(http::field::access_control_allow_credentials);
  fields.set(http::field::access_control_allow_origin, origin);
  fields.set(http::field::access_control_allow_credentials, "true");
  fields.insert(http::field::vary, "Origin");
}

Answer CorsPolicy::preflight(std::optional<std::string_view> origin, std::string_view method,
                             std::string_view request_headers) const {
  auto match = allowed(origin);
  if (!match || !method_token(method) || !header_list(request_headers)) {
    return {403,
            {{"Content-Type", "text/plain; charset=utf-8"}, {"Vary", "Origin"}},
            "Forbidden: this origin may not call this virtual proxy (cors.allowed_origins)"};
  }
  Answer answer{204, {}, {}};
  answer.headers.emplace_back("Access-Control-Allow-Origin", std::string(*match));
  answer.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  answer.headers.emplace_back("Access-Control-Allow-Methods", std::string(method));
  if (!request_headers.empty()) {
    answer.headers.emplace_back("Access-Control-Allow-Headers", std::string(request_headers));
  }
  answer.headers.emplace_back("Access-Control-Max-Age", "600");
  answer.headers.emplace_back("Vary", "Origin");
  return answer;
}

}  // namespace jotgate::proxy
