// AccessStore: access allocations (the original system's "licensed users") and revocations of
// tokens and users, in SQLite at <data_dir>/jotgate.db. Used at start-up, from the gateway's
// maintenance tick and by `jotgate access` / `jotgate revoke` / the admin API; never on the request
// path (the gateway keeps in-memory copies).
//   auto store = AccessStore::open(data_dir);                 // creates tables, WAL mode
//   store->grant({"ACME", "alice"}, now);                      // true when newly granted
//   for (const auto& a : *store->list()) print(a.user.qualified(), a.last_used_at);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/identity.h"
#include "base/result.h"

struct sqlite3;

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
  // Opens (creating the folder, file and tables when missing) <data_dir>/jotgate.db.
  static Result<std::unique_ptr<AccessStore>> open(const std::string& data_dir);
  ~AccessStore();
  AccessStore(const AccessStore&) = delete;
  AccessStore& operator=(const AccessStore&) = delete;

  // True when the user had no allocation before.
  Result<bool> grant(const UserIdentity& user, UnixSeconds now);
  // True when the user had an allocation.
  Result<bool> revoke(const UserIdentity& user);
  Result<std::vector<Allocation>> list();
  // Seats handed out by auto-allocation so far (kept when an allocation is revoked).
  Result<std::int64_t> seats_used();
  // In one transaction: when the user never had a seat and fewer than `seats` are used, takes a
  // seat and grants an allocation. True when granted.
  Result<bool> take_seat(const UserIdentity& user, std::int64_t seats, UnixSeconds now);
  // Records last use for many users in one transaction.
  Result<void> record_last_use(const std::vector<std::pair<UserIdentity, UnixSeconds>>& uses);
  // Stores a revocation (its id is ignored) and returns it with the id it got.
  Result<Revocation> add_revocation(Revocation revocation);
  // All stored revocations, oldest first (expired ones too, until pruned).
  Result<std::vector<Revocation>> revocations();
  // True when a revocation had this id.
  Result<bool> lift_revocation(std::int64_t id);
  // Drops revocations whose `until` is at or before `now`; returns how many.
  Result<std::int64_t> prune_revocations(UnixSeconds now);
  // Changes when another connection (another process) commits; cheap to poll.
  Result<std::int64_t> data_version();

  const std::string& path() const { return path_; }

 private:
  AccessStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<void> exec(const char* sql);
  Error failure(const std::string& what) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace jotgate::access
