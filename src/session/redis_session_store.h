// RedisSessionStore: one virtual proxy's sessions in the Redis server that every node of a
// cluster shares, so a session made on one node works on every node and outlives any of them.
// This node remembers what it read or wrote for at most kFreshFor (750 ms): a busy user costs no
// round trip per request, and a logout or a session ended on another node is refused here within
// a second, with room to spare for the round trip that notices it. Redis expires sessions itself
// (PX); use pushes the expiry forward at most every tenth of the inactivity timeout. Nothing here
// blocks a request thread: a session this node does not know is read asynchronously
// (LookupStatus::kPending), and a new one is written while the request waits on Created::commit.
//   RedisSessionStore store(client, "jotgate:", "sales", limits);
//   auto found = store.lookup(cookie, now);   // kPending: wait on found.pending, look up again
//   auto created = store.create(user, {}, now);   // answer once created.commit finished ok
//
// Keys (<p> = key_prefix, <vp> = the virtual proxy's prefix, "~" for the root; <digest> = the
// SHA-256 of the session id in hex, so no key name holds the secret):
//   <p>session:<vp>:<digest>       the session (JSON), PX = time left
//   <p>user:<vp>:<DIR\id>          sorted set of the user's sessions (digest -> expiry), for the
//                                  admin API and revocations
//   <p>sessions:<vp>               sorted set of every session (digest -> expiry), for the count
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "session/session_store.h"

namespace jotgate::redis {
class RedisClient;
}

namespace jotgate::session {

class RedisSessionStore final : public SessionStore {
 public:
  static constexpr std::chrono::milliseconds kFreshFor{750};

  RedisSessionStore(std::shared_ptr<redis::RedisClient> client, std::string key_prefix,
                    const std::string& virtual_proxy_prefix, SessionLimits limits);
  ~RedisSessionStore() override;

  Created create(const UserIdentity& user, Attributes attributes, UnixSeconds now) override;
  LookupResult lookup(std::string_view cookie_value, UnixSeconds now,
                      Refresh refresh = Refresh::kYes) override;
  bool touch(std::uint64_t handle, UnixSeconds now) override;
  bool remove(std::uint64_t handle) override;
  std::vector<std::pair<std::string, SessionView>> sessions_of(const UserIdentity& user,
                                                               UnixSeconds now) const override;
  std::vector<std::pair<std::string, SessionView>> some_sessions(UnixSeconds now,
                                                                 std::size_t limit) const override;
  std::size_t remove_user(const UserIdentity& user, UnixSeconds created_until = kForever) override;
  std::size_t expire(UnixSeconds now,
                     const std::function<void(const UserIdentity&)>& on_expired = {}) override;
  std::size_t size() const override { return count_->load(std::memory_order_relaxed); }
  SessionLimits limits() const override;
  void set_limits(SessionLimits limits) override;
  bool shared() const override { return true; }

 private:
  struct Entry;
  struct Read;
  struct Shard;
  struct Keys;
  // The local entry's expiry moved forward to `now`'s: sends the new expiry to Redis when it
  // moved by a tenth of the inactivity timeout or more since it was last sent.
  void extend(Entry& entry, UnixSeconds now);
  UnixSeconds expiry_at(UnixSeconds created_at, UnixSeconds now) const;
  struct Stored {
    std::string cookie;
    std::string digest;
    UnixSeconds created_at = 0;
    SessionView view;
  };
  // The live sessions filed in sorted set `index` (a user's, or the virtual proxy's), at most
  // `limit`; with `user`, only that user's.
  std::vector<Stored> stored_sessions_in(const std::string& index, UnixSeconds now,
                                         std::size_t limit, const UserIdentity* user) const;
  void start_read(Entry& entry);
  bool take_read(Shard& shard, Entry& entry, UnixSeconds now);
  void refresh_count(UnixSeconds now);

  std::shared_ptr<redis::RedisClient> client_;
  std::unique_ptr<Keys> keys_;
  std::atomic<std::int64_t> inactivity_timeout_seconds_;
  std::atomic<std::int64_t> max_lifetime_seconds_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::uint64_t> next_handle_{1};
  // Live sessions as last counted (shared with the count's reply, which may land after the
  // store is gone).
  std::shared_ptr<std::atomic<std::size_t>> count_;
  UnixSeconds next_count_at_ = 0;  // expire()'s thread only
};

}  // namespace jotgate::session
