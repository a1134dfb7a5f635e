// CORS for one virtual proxy: pages of the configured origins (exact matches) may call it with
// credentials, on its own endpoints and the proxied paths alike; preflights are answered here
// and never forwarded. Any other origin gets no CORS headers (the browser then keeps the answer
// from the page), and may not use the gateway's own state-changing endpoints at all.
//   CorsPolicy cors(vp.cors_allowed_origins);
//   if (auto origin = cors.allowed(request_origin)) cors.add_headers(response, *origin);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/fields.hpp>

#include "base/answer.h"

namespace jotgate::proxy {

class CorsPolicy {
 public:
  CorsPolicy() = default;
  explicit CorsPolicy(std::vector<std::string> allowed_origins)
      : allowed_(std::move(allowed_origins)) {}

  bool enabled() const { return !allowed_.empty(); }
  // The Origin header value when it is one of the allowed origins.
  std::optional<std::string_view> allowed(std::optional<std::string_view> origin) const;
  // On an answer to an allowed origin: Access-Control-Allow-Origin (that origin, never "*"),
  // -Allow-Credentials, Vary: Origin; the upstream's own Access-Control-Allow-* are replaced.
  void add_headers(boost::beast::http::fields& fields, std::string_view origin) const;

  // The answer to a preflight (OPTIONS with Access-Control-Request-Method): 204 with what the
  // browser asked for, for an allowed origin; 403 otherwise.
  Answer preflight(std::optional<std::string_view> origin, std::string_view method,
                   std::string_view request_headers) const;

 private:
  std::vector<std::string> allowed_;
};

}  // namespace jotgate::proxy
