// AdminApi: the routes of /api/v1 as functions over an AdminBackend (the SessionAdmin in force,
// the reload), apart from sockets: it takes a request the server has read (and the verdict on
// its client) and returns the answer. It matches the route, validates the JSON body with
// field-level errors, calls SessionAdmin, maps its errors to HTTP, and writes one audit line per
// call (the route template, never a ticket, a token or a session id). Revocations go to the
// backend's auth::Revocations (in force at once; sessions end at the gateway's next tick).
//   AdminApi api(backend);
//   Answer r = api.handle({.method = "POST", .target = "/api/v1/virtual-proxies/sales/tickets",
//                               .content_type = "application/json", .body = json, .client = who});
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "admin/admin_backend.h"
#include "admin/client_auth.h"
#include "base/answer.h"
#include "base/clock.h"

namespace jotgate::admin {

// Request bodies beyond this are refused (413) without being read further.
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

struct ApiRequest {
  std::string_view method;
  std::string_view target;  // as sent: path and query
  std::optional<std::string_view> content_type;
  std::string_view body;
  bool body_too_large = false;  // the server stopped reading at kMaxBodyBytes
  ClientVerdict client;         // refused clients get the refusal, audited
};

class AdminApi {
 public:
  explicit AdminApi(AdminBackend& backend);
  // `clock`: when a revocation is made (tests pin it).
  AdminApi(AdminBackend& backend, const Clock& clock) : backend_(backend), clock_(clock) {}
  // The answer in the gateway's one answer type: a JSON body with its Content-Type, or "" (204).
  Answer handle(const ApiRequest& request);

 private:
  AdminBackend& backend_;
  const Clock& clock_;  // outlives every copy of the AdminApi
};

}  // namespace jotgate::admin
