// AuditHistory: the last audit events kept in memory, newest last, for the console's Audit page
// (GET /api/v1/audit). Bounded: past kCapacity the oldest is dropped. Holds exactly what the
// audit log line holds (never a token, a ticket or a session id). audit() records into the
// process's history (audit_history()) from the thread that writes the log lines.
//   audit_history().record({now, "sign_in", {{"vp", "jwt"}, {"user", "ACME\\alice"}}});
//   auto last = audit_history().recent({.vp = "jwt", .event = "sign_in", .limit = 50});
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jotgate::auth {

struct AuditEvent {
  std::chrono::system_clock::time_point time;
  std::string event;
  std::vector<std::pair<std::string, std::string>> fields;  // in the line's order
  // The value of field `key`, "" when the line has none.
  std::string_view field(std::string_view key) const;
};

// Which events recent() returns: every non-empty criterion must match. `user` matches a part of
// the `user` field, ignoring case ("alice" finds ACME\alice); the others match exactly.
struct AuditFilter {
  std::string user = {};
  std::string vp = {};
  std::string event = {};
  std::string reason = {};
  std::size_t limit = 100;
};

class AuditHistory {
 public:
  static constexpr std::size_t kCapacity = 1000;

  void record(AuditEvent event);
  // Newest first, at most filter.limit.
  std::vector<AuditEvent> recent(const AuditFilter& filter) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::deque<AuditEvent> events_;
};

// The process's history, which audit() records into.
AuditHistory& audit_history();

}  // namespace jotgate::auth
