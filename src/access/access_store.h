// AccessStore: access allocations (the original system's "licensed users") and revocations of
// tokens and users, in the configured database: SQLite at <data_dir>/jotgate.db
// (SqliteAccessStore) or PostgreSQL shared by several nodes (PostgresAccessStore). Used at
// start-up, from the gateway's maintenance and by `jotgate access` / `jotgate revoke` / the admin
// API; never on the request path (the gateway keeps in-memory copies).
//   auto store = AccessStore::open(config.database, config.data_dir);  // creates the tables
//   store->grant({"ACME", "alice"}, now);                      // true when newly granted
//   for (const auto& a : *store->list()) print(a.user.qualified(), a.last_used_at);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/identity.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::access {

struct Allocation {
  UserIdentity user;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> last_used_at;
  bool by_seat = false;  // handed out by auto_allocate_seats
};

// A revoked token (by its `jti`) or user (every token issued up to `revoked_at`).
struct Revocation {
  enum class Kind { kTokenId, kUser };
  std::int64_t id = 0;  // assigned by the store, never reused
  Kind kind = Kind::kTokenId;
  std::string jti;    // kTokenId
  UserIdentity user;  // kUser
  UnixSeconds revoked_at = 0;
  std::optional<UnixSeconds> until;  // dropped from then on (the tokens it names have expired);
                                     // nullopt: kept until lifted
};

class AccessStore {
 public:
  // The configured database: SQLite at <data_dir>/jotgate.db, or PostgreSQL (schema created and
  // migrated; fails when the server cannot be reached).
  static Result<std::unique_ptr<AccessStore>> open(const config::DatabaseSettings& database,
                                                   const std::string& data_dir);
  // SQLite: opens (creating the folder, file and tables when missing) <data_dir>/jotgate.db.
  static Result<std::unique_ptr<AccessStore>> open(const std::string& data_dir);
  virtual ~AccessStore() = default;

  // True when the user had no allocation before.
  virtual Result<bool> grant(const UserIdentity& user, UnixSeconds now) = 0;
  // True when the user had an allocation.
  virtual Result<bool> revoke(const UserIdentity& user) = 0;
  virtual Result<std::vector<Allocation>> list() = 0;
  // Seats handed out by auto-allocation so far (kept when an allocation is revoked).
  virtual Result<std::int64_t> seats_used() = 0;
  // In one transaction: when the user never had a seat and fewer than `seats` are used, takes a
  // seat and grants an allocation. True when granted. Never more than `seats`, whatever the
  // number of processes and connections asking at once.
  virtual Result<bool> take_seat(const UserIdentity& user, std::int64_t seats, UnixSeconds now) = 0;
  // Records last use for many users in one transaction.
  virtual Result<void> record_last_use(
      const std::vector<std::pair<UserIdentity, UnixSeconds>>& uses) = 0;
  // Stores a revocation (its id is ignored) and returns it with the id it got.
  virtual Result<Revocation> add_revocation(Revocation revocation) = 0;
  // All stored revocations, oldest first (expired ones too, until pruned).
  virtual Result<std::vector<Revocation>> revocations() = 0;
  // True when a revocation had this id.
  virtual Result<bool> lift_revocation(std::int64_t id) = 0;
  // Drops revocations whose `until` is at or before `now`; returns how many.
  virtual Result<std::int64_t> prune_revocations(UnixSeconds now) = 0;
  // Changes when another connection (another process, another node) commits a change to
  // allocations, seats or revocations; cheap to poll (PostgreSQL: no round trip).
  virtual Result<std::int64_t> data_version() = 0;

  // True when every call may wait on the network (PostgreSQL): the gateway then keeps its
  // request and control threads away from the store.
  virtual bool remote() const { return false; }
  // Why the store cannot be reached now ("" when it can), for readyz.
  virtual std::string unreachable() const { return ""; }
  // `wake` is called (from a thread of the store) when data_version() changed, so a gateway
  // applies a change from another node at once instead of at its next tick. SQLite: never.
  virtual void on_change(std::function<void()> wake) { (void)wake; }

 protected:
  AccessStore() = default;
  AccessStore(const AccessStore&) = delete;
  AccessStore& operator=(const AccessStore&) = delete;
};

}  // namespace jotgate::access
