// The audit log: who signed in or out, which token or ticket was refused and why, which
// session expired, who was denied, every admin API call. Never a token, a key, a ticket or a
// session id. One spdlog logger named "audit" (standard output unless someone registered one).
//   audit_log().info("event=sign_in vp={} user={}", prefix, user.qualified());
#pragma once

#include <spdlog/logger.h>

namespace jotgate::auth {

// Looked up by name on each call, so a logger registered later (tests) takes over.
spdlog::logger& audit_log();

}  // namespace jotgate::auth
