// The audit log: who signed in or out, which token or ticket was refused and why, which
// session expired, who was denied, every admin API call. Never a token, a key, a ticket or a
// session id. One spdlog logger named "audit" (standard output unless someone registered one).
// Text lines are `event=NAME key=value ...`, every value through log_field (base/log_field.h),
// so a user id with spaces, quotes or line breaks cannot add fields or lines; with
// `log_format: json` each line is a JSON object (base/log_line.h) with the request's ids.
//   audit("sign_in", {{"vp", prefix}, {"user", user.qualified()}, {"method", "jwt"}}, ids);
//   AuditWriter writer;   // serve: lines are written off the request threads, in batches
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <thread>

#include <spdlog/logger.h>

#include "base/log_line.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

// Looked up by name on each call, so a logger registered later (tests) takes over.
spdlog::logger& audit_log();

// Text (the default) or JSON lines; set once at start-up, before any line is written.
void set_audit_format(config::LogFormat format);

struct AuditField {
  std::string_view key;    // a fixed name
  std::string_view value;  // any bytes: quoted and escaped when needed
};

// One line: `event=<event>` then each field as key=value (JSON: the fixed keys, `ids`, then the
// other fields), stamped with the time of the call. With an AuditWriter running the line is
// appended to its buffer; without one (tests, tools) it is written and flushed here.
void audit(std::string_view event, std::initializer_list<AuditField> fields,
           const RequestIds& ids = {});

// While one runs, audit() only appends its line to a buffer under a short lock; this writer's
// thread writes what has gathered every kInterval (or at once when kBatch lines wait) with one
// flush. It is never woken per line: a wake per sign-in was measured (a thread switch per
// request, +18% CPU per request in bench/run row 7). Asleep while no lines come; the first line
// after a quiet spell wakes it. A full buffer (kCapacity lines) makes audit() wait rather than
// drop a line. stop() (and the destructor) writes every line appended before it returns, so
// nothing is lost on SIGTERM; after it, audit() writes on its caller's thread again.
// One at a time, for the process.
class AuditWriter {
 public:
  static constexpr std::chrono::milliseconds kInterval{25};
  static constexpr std::size_t kBatch = 512;
  static constexpr std::size_t kCapacity = 64 * 1024;

  AuditWriter();
  ~AuditWriter() { stop(); }
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  void stop();

 private:
  std::thread thread_;
};

}  // namespace jotgate::auth
