// The audit log: who signed in or out, which token or ticket was refused and why, which
// session expired, who was denied, every admin API call. Never a token, a key, a ticket or a
// session id. One spdlog logger named "audit" (standard output unless someone registered one).
// Lines are `event=NAME key=value ...`; every value goes through log_field (base/log_field.h),
// so a user id with spaces, quotes or line breaks cannot add fields or lines.
//   audit("sign_in", {{"vp", prefix}, {"user", user.qualified()}, {"method", "jwt"}});
#pragma once

#include <initializer_list>
#include <string_view>

#include <spdlog/logger.h>

namespace jotgate::auth {

// Looked up by name on each call, so a logger registered later (tests) takes over.
spdlog::logger& audit_log();

struct AuditField {
  std::string_view key;    // a fixed name
  std::string_view value;  // any bytes: quoted and escaped when needed
};

// Writes and flushes one line, `event=<event>` then each field as key=value, before it returns:
// an event is in the log before the answer it belongs to leaves the gateway. (Writing lines on
// another thread in batches was measured: the thread switch per sign-in cost more CPU than the
// write it saved, and lines then trailed their answers.)
void audit(std::string_view event, std::initializer_list<AuditField> fields);

}  // namespace jotgate::auth
