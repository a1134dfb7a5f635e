// MemorySessionStore: the gateway's sessions in memory, fast with a million of them. 64 shards,
// each a mutex, a hash map and an expiry heap, so lookups contend little and expiry never scans
// everything. Ids are 256 bits from the CSPRNG; the cookie carries them as base64url. With
// max_per_user set, a per-user index (oldest first) lets create() end a user's oldest session in
// O(1); without it the index is empty and costs nothing. Cookie lookups never read it.
//   MemorySessionStore store({.inactivity_timeout_seconds = 1800});
//   auto created = store.create({"ACME", "alice"}, {}, now);   // created.cookie_value -> cookie
//   auto found = store.lookup(cookie_value, now);              // refreshes the inactivity timer
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "session/session_store.h"

namespace jotgate::session {

class MemorySessionStore final : public SessionStore {
 public:
  explicit MemorySessionStore(SessionLimits limits);
  ~MemorySessionStore() override;
  MemorySessionStore(const MemorySessionStore&) = delete;
  MemorySessionStore& operator=(const MemorySessionStore&) = delete;

  Created create(const UserIdentity& user, Attributes attributes, UnixSeconds now) override;
  LookupResult lookup(std::string_view cookie_value, UnixSeconds now,
                      Refresh refresh = Refresh::kYes) override;
  bool touch(std::uint64_t handle, UnixSeconds now) override;
  bool remove(std::uint64_t handle) override;
  // A scan, like remove_user: rare.
  std::vector<std::pair<std::string, SessionView>> sessions_of(const UserIdentity& user,
                                                               UnixSeconds now) const override;
  std::vector<std::pair<std::string, SessionView>> some_sessions(UnixSeconds now,
                                                                 std::size_t limit) const override;
  std::size_t remove_user(const UserIdentity& user, UnixSeconds created_until = kForever) override;
  std::size_t expire(UnixSeconds now,
                     const std::function<void(const UserIdentity&)>& on_expired = {}) override;
  std::size_t size() const override;
  SessionLimits limits() const override;
  void set_limits(SessionLimits limits) override;

  // Copies of the live sessions, taken shard by shard under the shard's lock (no I/O inside).
  std::vector<SavedSession> export_sessions(UnixSeconds now) const override;
  // Adds saved sessions (at start-up), dropping those expired under this store's limits. An id
  // already present is skipped.
  ImportCounts import_sessions(std::vector<SavedSession> sessions, UnixSeconds now) override;

  static constexpr std::size_t kShards = 64;

 private:
  struct Shard;
  struct UserIndex;
  // Keeps the user index in step with a session leaving (its shard's lock held: that lock is
  // always taken before the index's).
  void unindex(const UserIdentity& user, std::uint64_t user_hash, std::uint64_t handle);
  void build_user_index();
  // The live sessions `wanted` picks, at most `limit`, with their cookie values (a scan).
  std::vector<std::pair<std::string, SessionView>> collect(
      UnixSeconds now, std::size_t limit,
      const std::function<bool(std::uint64_t user_hash, const UserIdentity& user)>& wanted) const;
  std::atomic<std::int64_t> inactivity_timeout_seconds_;
  std::atomic<std::int64_t> max_lifetime_seconds_;
  mutable std::unique_ptr<Shard[]> shards_;
  std::atomic<std::int64_t> max_per_user_;
  std::unique_ptr<UserIndex> users_;  // empty unless max_per_user_ > 0
};

}  // namespace jotgate::session
