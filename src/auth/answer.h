// The one place that turns an authentication outcome into an HTTP answer (status, headers, body),
// so every refusal reads the same whether it comes from a token, a session or an allocation.
//   Decision d = refuse(Reason::kNoCredentials, {.realm = "jwt", .json = wants_json(accept)});
//   d.status == 401; d.response_headers holds WWW-Authenticate and Content-Type
#pragma once

#include <optional>
#include <string_view>

#include "auth/gate.h"

namespace jotgate::auth {

struct AnswerContext {
  std::string_view realm;    // the virtual proxy's prefix
  bool json = false;         // the client accepts application/json
  const UserIdentity* user = nullptr;  // for 403 messages
};

// True when an Accept header value takes application/json (and not with q=0).
bool wants_json(std::optional<std::string_view> accept);

// A refusal: 401 for missing or bad credentials, 403 for a user without an allocation, 400 for
// a request with more than one Authorization header.
Decision refuse(Reason reason, const AnswerContext& context);

}  // namespace jotgate::auth
