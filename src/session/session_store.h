// SessionStore: where a virtual proxy's sessions live. MemorySessionStore keeps them in the
// gateway's memory (memory_session_store.h); RedisSessionStore in a Redis server that every node
// of a cluster shares, with a short local cache (redis_session_store.h). Lookups and creations
// that need a round trip to Redis never block: they say so (LookupStatus::kPending,
// Created::commit) and hand out a Pending the caller waits on without holding its thread.
//   std::unique_ptr<SessionStore> store = std::make_unique<MemorySessionStore>(limits);
//   auto created = store->create({"ACME", "alice"}, {}, now);   // created.cookie_value -> cookie
//   auto found = store->lookup(cookie_value, now);              // refreshes the inactivity timer
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
#include "base/pending.h"

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

// kPending: the session is being read from a shared store; wait on `pending`, then look it up
// again (it is then known to this node for a short while). kUnavailable: the shared store
// cannot be reached now (the session may well exist: never answer as if it did not).
enum class LookupStatus { kFound, kUnknown, kExpired, kPending, kUnavailable };

struct LookupResult {
  LookupStatus status = LookupStatus::kUnknown;
  SessionView session;  // when kFound; `user` also set when kExpired (for the audit log)
  std::shared_ptr<Pending> pending;  // when kPending
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  struct Created {
    std::string cookie_value;  // base64url of the 32-byte id: a secret, never logged
    std::uint64_t handle = 0;
    std::size_t evicted = 0;  // the user's oldest sessions it ended (max_per_user)
    // A shared store: the write under way; the session exists for other nodes once it
    // finished ok. nullptr: done already (memory).
    std::shared_ptr<Pending> commit;
    bool unavailable = false;  // the shared store cannot be reached: no session was created
  };
  virtual Created create(const UserIdentity& user, Attributes attributes, UnixSeconds now) = 0;

  // The session a cookie value names, refreshed (sliding expiry). An expired session is removed.
  virtual LookupResult lookup(std::string_view cookie_value, UnixSeconds now,
                              Refresh refresh = Refresh::kYes) = 0;
  // Refreshes a session by handle (WebSocket traffic); false when it is gone or expired.
  virtual bool touch(std::uint64_t handle, UnixSeconds now) = 0;
  virtual bool remove(std::uint64_t handle) = 0;
  // Every live session of a user, with its cookie value (for the admin API; rare, and it may
  // wait for a shared store: never on a request thread).
  virtual std::vector<std::pair<std::string, SessionView>> sessions_of(const UserIdentity& user,
                                                                       UnixSeconds now) const = 0;
  // At most `limit` live sessions of the virtual proxy, with their cookie values (the console's
  // list; rare, and it may wait for a shared store as sessions_of does).
  virtual std::vector<std::pair<std::string, SessionView>> some_sessions(
      UnixSeconds now, std::size_t limit) const = 0;
  // Ends every session of a user (revocation) created at or before `created_until`; returns how
  // many. May wait for a shared store: never on a request thread.
  virtual std::size_t remove_user(const UserIdentity& user,
                                  UnixSeconds created_until = kForever) = 0;
  // Removes sessions past their deadline; calls `on_expired` for each (inside the store's lock:
  // it must be quick and must not call the store). A shared store expires its sessions itself
  // and only drops what this node remembers of them.
  virtual std::size_t expire(UnixSeconds now,
                             const std::function<void(const UserIdentity&)>& on_expired = {}) = 0;
  // Live sessions (a shared store: as last counted, at most a few seconds old).
  virtual std::size_t size() const = 0;

  // The limits in force. set_limits applies new ones (a reload) from the next lookup on, to the
  // sessions already open too.
  virtual SessionLimits limits() const = 0;
  virtual void set_limits(SessionLimits limits) = 0;

  // Whether sessions live outside this process (saved there, not in <data_dir>/sessions.db).
  virtual bool shared() const { return false; }
  // Copies of the live sessions, and adding saved ones back (a memory store across a restart).
  virtual std::vector<SavedSession> export_sessions(UnixSeconds /*now*/) const { return {}; }
  virtual ImportCounts import_sessions(std::vector<SavedSession> /*sessions*/,
                                       UnixSeconds /*now*/) {
    return {};
  }

  static constexpr UnixSeconds kForever = std::numeric_limits<UnixSeconds>::max();
};

}  // namespace jotgate::session
