// ConsoleSessions: the browsers signed in to the console. A session is a 256-bit random id (the
// cookie's value) naming an administrator; it ends after kIdleSeconds without use, kLifetimeSeconds
// after sign-in, at sign-out, or when kMaxSessions newer ones push it out. Only the SHA-256 of an
// id is kept; the CSRF token is a keyed hash of the id, computed again when checked, never stored.
// Thread-safe; `now` is passed in (tests pin it).
//   ConsoleSessions sessions;
//   auto opened = sessions.open("token", now);             // opened.id goes into the cookie
//   if (auto session = sessions.find(cookie, now)) allow(session->admin, session->csrf_token);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace jotgate::console {

class ConsoleSessions {
 public:
  static constexpr std::int64_t kIdleSeconds = 15 * 60;
  static constexpr std::int64_t kLifetimeSeconds = 8 * 60 * 60;
  static constexpr std::size_t kMaxSessions = 1000;

  explicit ConsoleSessions(std::size_t max_sessions = kMaxSessions);

  struct Opened {
    std::string id;          // 64 hex digits: the cookie value
    std::string csrf_token;  // 64 hex digits: sent back in X-CSRF-Token
  };
  struct Session {
    std::string admin;
    std::string csrf_token;
    UnixSeconds expires_at = 0;  // the earlier of idle and absolute expiry, after this use
  };

  // A new session for `admin`; the oldest session goes when kMaxSessions are open.
  Opened open(std::string admin, UnixSeconds now);
  // The live session `id` names, its idle time restarted; nullopt when unknown or expired.
  std::optional<Session> find(std::string_view id, UnixSeconds now);
  // True when `presented` is the CSRF token of session `id` (constant time).
  bool csrf_matches(std::string_view id, std::string_view presented) const;
  // Ends session `id`; false when there was none.
  bool close(std::string_view id);
  std::size_t size() const;

 private:
  struct Entry {
    std::string admin;
    UnixSeconds opened_at = 0;
    UnixSeconds last_used = 0;
  };
  static UnixSeconds expiry(const Entry& entry) {
    return std::min(entry.last_used + kIdleSeconds, entry.opened_at + kLifetimeSeconds);
  }
  std::string csrf_token_for(std::string_view id) const;
  void forget_expired(UnixSeconds now);  // with mutex_ held

  const std::size_t max_sessions_;
  std::string csrf_key_;  // random, for this process: a restart ends every session anyway
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // by SHA-256 of the id (raw bytes)
};

}  // namespace jotgate::console
