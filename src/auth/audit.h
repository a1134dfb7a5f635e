// The audit log: who signed in or out, which token or ticket was refused and why, which
// session expired, who was denied, every admin API call. Never a token, a key, a ticket or a
// session id. One spdlog logger named "audit" (standard output unless someone registered one).
// Lines are `event=NAME key=value ...`; every value goes through log_field (base/log_field.h),
// so a user id with spaces, quotes or line breaks cannot add fields or lines.
//   audit("sign_in", {{"vp", prefix}, {"user", user.qualified()}, {"method", "jwt"}});
//   AuditWriter writer;   // serve: lines are written off the request threads, in batches
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <thread>

#include <spdlog/logger.h>

namespace jotgate::auth {

// Looked up by name on each call, so a logger registered later (tests) takes over.
spdlog::logger& audit_log();

struct AuditField {
  std::string_view key;    // a fixed name
  std::string_view value;  // any bytes: quoted and escaped when needed
};

// Writes one line: `event=<event>` then each field as key=value, stamped with the time of the
// call. With an AuditWriter running it is queued for the writer; else written and flushed here.
void audit(std::string_view event, std::initializer_list<AuditField> fields);

// While one runs, audit() hands its lines to this writer's thread, which writes whatever has
// queued up and flushes once per batch: a sign-in never waits on standard output. A full queue
// (kCapacity lines) makes audit() wait rather than drop a line. stop() (and the destructor)
// writes every queued line before returning, so nothing is lost on a normal exit or SIGTERM.
// One at a time, for the process.
class AuditWriter {
 public:
  static constexpr std::size_t kCapacity = 64 * 1024;

  AuditWriter();
  ~AuditWriter() { stop(); }
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Writes what is queued and ends the thread; audit() writes on its caller's thread again.
  void stop();

 private:
  std::thread thread_;
};

}  // namespace jotgate::auth
