// https_get: fetches a small document over HTTPS, for the key sources (src/jwks). One blocking
// call with a deadline on an io_context of its own, so it can run on any thread; the
// certificate chain and the host name are verified. Beast and Asio stay in the .cpp.
//   auto document = fetch::https_get("https://idp.example/keys", {.ca_file = "", .timeout = 5s});
//   if (document) parse(document->body); else log(document.error().detail);
//     // "https://idp.example/keys: HTTP 500", "...: certificate verify failed", ...
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace jotgate::fetch {

struct FetchOptions {
  std::string ca_file;  // PEM certificates to trust instead of the system store; "" = system
  std::chrono::milliseconds timeout{5000};  // the whole call: resolve, connect, TLS, answer
  std::size_t max_bytes = 1024 * 1024;      // a larger body is an error, never truncated
};

struct Document {
  std::string body;
  // Cache-Control: max-age of the answer, when it has one.
  std::optional<std::chrono::seconds> max_age;
};

// The parts of an https URL; anything else (http://, userinfo, a fragment) is refused.
struct HttpsUrl {
  std::string host;    // without brackets for an IPv6 literal
  std::string port;    // "443" when absent
  std::string target;  // path and query, "/" when absent
};
Result<HttpsUrl> parse_https_url(std::string_view url);

// Cache-Control's max-age, when the header value names one ("public, max-age=300").
std::optional<std::chrono::seconds> max_age_of(std::string_view cache_control);

// GET `url`; only 200 is a document. Errors are kFetchFailed with the detail
// "<url>: <what went wrong>" (never the body).
Result<Document> https_get(const std::string& url, const FetchOptions& options);

}  // namespace jotgate::fetch
