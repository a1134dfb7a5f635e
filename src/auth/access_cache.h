// AccessCache: the gateway's in-memory view of access allocations, so the request path never
// touches the database, except to hand out an auto-allocated seat, once per new user: with
// SQLite at once; with PostgreSQL on a database thread of its own (check() answers kPending and
// seat_wait() says when to check again). maintain() records last use in batches and reloads
// when another process or node changed the database.
//   auto cache = AccessCache::create(config.access, config.database, config.data_dir, now);
//   if (cache->check(user, now) == Admit::kPending) cache->seat_wait(user)([&] { decide_again();
//   }); cache->maintain([&](const UserIdentity& revoked) { end_sessions(revoked); });
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "access/access_store.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

class DatabaseThread;

class AccessCache {
 public:
  static Result<std::unique_ptr<AccessCache>> create(const config::AccessSettings& settings,
                                                     const config::DatabaseSettings& database,
                                                     const std::string& data_dir, UnixSeconds now);
  // SQLite in data_dir.
  static Result<std::unique_ptr<AccessCache>> create(const config::AccessSettings& settings,
                                                     const std::string& data_dir, UnixSeconds now);
  ~AccessCache();

  enum class Admit { kAllowed, kDenied, kPending };
  // Whether the user may pass (mode open, an allocation, or a seat taken now); records the use.
  // kPending (PostgreSQL only): a seat is being asked for; seat_wait(user) tells when it has
  // been answered, and check() then decides (without kPending for that user until the next
  // maintain()).
  Admit check(const UserIdentity& user, UnixSeconds now);
  // What check() would do for the user, changing nothing (no seat taken, no use recorded).
  enum class Standing { kAllowed, kWouldTakeSeat, kDenied };
  Standing standing(const UserIdentity& user);
  // check() == kAllowed. With PostgreSQL a user waiting for a seat is refused this time (and
  // admitted by the next request once the seat is taken).
  bool admit(const UserIdentity& user, UnixSeconds now) {
    return check(user, now) == Admit::kAllowed;
  }
  // A function that calls `done` (on a database thread, or at once when no seat request for
  // `user` is running) once the seat request check() started for `user` has finished.
  using StoreWait = std::function<void(std::function<void()> done)>;
  StoreWait seat_wait(const UserIdentity& user);

  // Flushes last-use times; when another connection committed, reloads allocations and calls
  // `on_revoked` for each user who lost theirs. With PostgreSQL: call it away from the request
  // and control threads (it waits on the network).
  void maintain(const std::function<void(const UserIdentity&)>& on_revoked);

  // The admin API's listing and changes, through this cache's connection and in force at once
  // (never on a request thread: they wait on the database). `on_revoked` as for maintain(): the
  // user a revoke took the allocation from, and any another process revoked meanwhile.
  Result<std::vector<access::Allocation>> allocations();
  Result<bool> grant(const UserIdentity& user, UnixSeconds now,
                     const std::function<void(const UserIdentity&)>& on_revoked);
  Result<bool> revoke(const UserIdentity& user,
                      const std::function<void(const UserIdentity&)>& on_revoked);
  const config::AccessSettings& settings() const { return settings_; }
  std::int64_t seats_used() const;

  // The database is PostgreSQL: every store call waits on the network.
  bool remote() const { return store_->remote(); }
  // Why the database cannot be reached now ("" when it can).
  std::string unreachable() const { return store_->unreachable(); }
  // Called from a database thread when another node changed allocations or seats.
  void on_change(std::function<void()> wake) { store_->on_change(std::move(wake)); }

 private:
  AccessCache(config::AccessSettings settings, std::unique_ptr<access::AccessStore> store);
  Result<void> reload();
  // store_mutex_ held: reload, then call `on_revoked` for each user who lost an allocation.
  void reload_reporting(const std::function<void(const UserIdentity&)>& on_revoked);
  struct Admission {
    bool allowed = false;     // mode open, or an allocation
    bool seats_left = false;  // auto_allocate_seats not all taken
  };
  Admission admission(const std::string& qualified);
  // Asks for a seat on seat_thread_ (once per user at a time).
  void request_seat(const UserIdentity& user, UnixSeconds now);
  // store_mutex_ held: take a seat; true when the user may pass.
  bool take_seat(const UserIdentity& user, UnixSeconds now);

  const config::AccessSettings settings_;
  std::mutex store_mutex_;  // one connection, used from maintain() and seat hand-outs
  std::unique_ptr<access::AccessStore> store_;
  std::int64_t data_version_ = 0;

  mutable std::shared_mutex allowed_mutex_;
  std::unordered_set<std::string> allowed_;  // "DIRECTORY\\id"
  std::int64_t seats_used_ = 0;

  std::mutex uses_mutex_;
  std::unordered_map<std::string, std::pair<UserIdentity, UnixSeconds>> pending_uses_;

  // PostgreSQL: seat requests running (their waiters) and answered since the last maintain().
  std::mutex seats_mutex_;
  std::unordered_map<std::string, std::vector<std::function<void()>>> seat_requests_;
  std::unordered_set<std::string> seats_answered_;
  std::unique_ptr<DatabaseThread> seat_thread_;  // last: stopped first, while the rest exists
};

}  // namespace jotgate::auth
