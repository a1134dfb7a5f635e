// Answer: what the gateway says itself (a refusal, an endpoint's reply, an admin call's result),
// and the one table from a Reason to HTTP: status, headers and body. Proxy, auth endpoints and
// the admin API all answer through it, so the same reason always reads the same.
//   Answer a = answer_for(make_error(Reason::kUpstreamTimeout));
//   a.status == 504; a.body == "Gateway Timeout: the upstream server did not answer in time"
//   Answer r = answer_for(make_error(Reason::kTokenExpired), {.realm = "jwt", .json = true});
//   r.status == 401; r.headers holds WWW-Authenticate and Content-Type; r.body is JSON
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/identity.h"
#include "base/result.h"

namespace jotgate {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Answer {
  int status = 200;
  HeaderList headers;  // Content-Type when the body is not plain text, WWW-Authenticate, ...
  std::string body;
};

// How a refusal is worded for its client.
struct AnswerContext {
  std::string_view realm;                // the virtual proxy's prefix (WWW-Authenticate realm)
  bool json = false;                     // the client takes application/json
  const UserIdentity* user = nullptr;    // named by ACCESS_DENIED
  std::int64_t retry_after_seconds = 0;  // TOO_MANY_FAILURES: when a sign-in may be tried again
};

// The status a reason is answered with: 401 for credentials, 403 for access, 4xx for requests
// the gateway refuses, 502/504 for upstreams, 500 for reasons no client causes.
int http_status(Reason reason);

// Retry-After of KEYS_UNAVAILABLE: keys come back with a reload (or a key fetch) soon.
inline constexpr int kKeysRetryAfterSeconds = 5;

// Retry-After of SESSION_STORE_UNAVAILABLE: the store reconnects within seconds.
inline constexpr int kSessionStoreRetryAfterSeconds = 1;

// "Bad Gateway", "URI Too Long", ...: the reason phrase of a status the gateway answers with.
std::string_view status_phrase(int status);

// The answer to an error. Credentials (401) get a WWW-Authenticate challenge and a body in JSON
// ({"error": CODE, "message": ...}) when the client takes it, else plain text, as the original
// virtual proxy words it. Every other reason is "<phrase>: <detail, or the reason's message>"
// in plain text, without headers (the writer adds Content-Type).
Answer answer_for(const Error& error, const AnswerContext& context = {});

// A JSON error of the admin API and the console: {"error": CODE, "message": ...}.
Answer error_answer(int status, std::string_view code, std::string_view message);

// True when an Accept header value takes application/json (and not with q=0).
bool wants_json(std::optional<std::string_view> accept);

}  // namespace jotgate
