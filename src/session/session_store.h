// SessionStore: the gateway's sessions in memory, fast with a million of them. 64 shards, each a
// mutex, a hash map and an expiry heap, so lookups contend little and expiry never scans
// everything. Ids are 256 bits from the CSPRNG; the cookie carries them as base64url. With
// max_per_user set, a per-user index (oldest first) lets create() end a user's oldest session in
// O(1); without it the index is empty and costs nothing. Cookie lookups never read it.
//   SessionStore store({.inactivity_timeout_seconds = 1800});
//   auto created = store.create({"ACME", "alice"}, {}, now);   // created.cookie_value -> cookie
//   auto found = store.lookup(cookie_value, now);              // refreshes the inactivity timer
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/identity.h"

namespace jotgate::session {

using Attributes = std::vector<std::pair<std::string, std::string>>;
using SessionId = std::array<unsigned char, 32>;  // what the cookie carries: a secret

struct SessionLimits {
  std::int64_t inactivity_timeout_seconds = 30 * 60;  // 0 = none
  std::int64_t max_lifetime_seconds = 0;              // 0 = none
  std::int64_t max_per_user = 0;                      // sessions per user; 0 = no limit
};

struct SessionView {
  std::uint64_t handle = 0;  // process-internal; never sent to a client
  UserIdentity user;
  Attributes attributes;       // e.g. forwarded claim headers, fixed at sign-in
  UnixSeconds expires_at = 0;  // when it ends unless used again (set by lookup)
};

// Whether a lookup counts as use of the session (sliding expiry) or only looks at it.
enum class Refresh { kYes, kNo };

// A session as saved across a restart (session_file.h): all it holds. Its deadlines follow from
// the two times and the limits of the store it is imported into.
struct SavedSession {
  SessionId id{};
  UserIdentity user;
  Attributes attributes;
  UnixSeconds created_at = 0;  // max_lifetime counts from here
  UnixSeconds last_seen = 0;   // inactivity_timeout counts from here
};

struct ImportCounts {
  std::size_t restored = 0;
  std::size_t expired = 0;  // past a deadline under this store's limits: dropped
};

enum class LookupStatus { kFound, kUnknown, kExpired };

struct LookupResult {
  LookupStatus status = LookupStatus::kUnknown;
  SessionView session;  // when kFound; `user` also set when kExpired (for the audit log)
};

class SessionStore {
 public:
  explicit SessionStore(SessionLimits limits);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  struct Created {
    std::string cookie_value;  // base64url of the 32-byte id: a secret, never logged
    std::uint64_t handle = 0;
    std::size_t evicted = 0;  // the user's oldest sessions it ended (max_per_user)
  };
  Created create(const UserIdentity& user, Attributes attributes, UnixSeconds now);

  // The session a cookie value names, refreshed (sliding expiry). An expired session is removed.
  LookupResult lookup(std::string_view cookie_value, UnixSeconds now,
                      Refresh refresh = Refresh::kYes);
  // Refreshes a session by handle (WebSocket traffic); false when it is gone or expired.
  bool touch(std::uint64_t handle, UnixSeconds now);
  bool remove(std::uint64_t handle);
  // Every live session of a user, with its cookie value (for the admin API; a scan, like
  // remove_user: rare).
  std::vector<std::pair<std::string, SessionView>> sessions_of(const UserIdentity& user,
                                                               UnixSeconds now) const;
  // Ends every session of a user (revocation) created at or before `created_until`; returns how
  // many.
  std::size_t remove_user(const UserIdentity& user, UnixSeconds created_until = kForever);
  // Removes sessions past their deadline; calls `on_expired` for each (outside no lock held by
  // the caller; inside the shard lock, so it must be quick and must not call the store).
  std::size_t expire(UnixSeconds now,
                     const std::function<void(const UserIdentity&)>& on_expired = {});
  std::size_t size() const;

  // The limits in force. set_limits applies new ones (a reload) from the next lookup on, to the
  // sessions already open too.
  SessionLimits limits() const;
  void set_limits(SessionLimits limits);

  // Copies of the live sessions, taken shard by shard under the shard's lock (no I/O inside).
  std::vector<SavedSession> export_sessions(UnixSeconds now) const;
  // Adds saved sessions (at start-up), dropping those expired under this store's limits. An id
  // already present is skipped.
  ImportCounts import_sessions(std::vector<SavedSession> sessions, UnixSeconds now);

  static constexpr std::size_t kShards = 64;
  static constexpr UnixSeconds kForever = std::numeric_limits<UnixSeconds>::max();

 private:
  struct Shard;
  struct UserIndex;
  // Keeps the user index in step with a session leaving (its shard's lock held: that lock is
  // always taken before the index's).
  void unindex(const UserIdentity& user, std::uint64_t user_hash, std::uint64_t handle);
  void build_user_index();
  std::atomic<std::int64_t> inactivity_timeout_seconds_;
  std::atomic<std::int64_t> max_lifetime_seconds_;
  mutable std::unique_ptr<Shard[]> shards_;
  std::atomic<std::int64_t> max_per_user_;
  std::unique_ptr<UserIndex> users_;  // empty unless max_per_user_ > 0
};

}  // namespace jotgate::session
