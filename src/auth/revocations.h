// Revocations: the gateway's revoked tokens and users, kept in the access database (SQLite in
// <data_dir>/jotgate.db or PostgreSQL, a connection of its own) and served from a RevocationList
// snapshot swapped atomically, so the request path reads it without a lock and never touches
// the database. `jotgate revoke` (or another node) writes the database; refresh() (the
// maintenance tick, about once a second, or at once on a PostgreSQL notification) sees its
// commit through data_version. The admin API writes through add() and lift(), which put the new
// snapshot in force at once. A failed reload keeps the snapshot in force.
//   auto revocations = Revocations::open(config.database, config.data_dir);
//   if ((*revocations)->refuses(jti, iat, user, now)) refuse(Reason::kTokenRevoked);
//   for (const auto& r : (*revocations)->refresh(now)) end_sessions_of(r);   // each tick
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "access/access_store.h"
#include "auth/revocation_list.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

class Revocations {
 public:
  static Result<std::shared_ptr<Revocations>> open(const config::DatabaseSettings& database,
                                                   const std::string& data_dir);
  // SQLite in data_dir.
  static Result<std::shared_ptr<Revocations>> open(const std::string& data_dir);

  // The snapshot in force; kept by the caller for as long as it needs it.
  std::shared_ptr<const RevocationList> current() const { return current_.load(); }
  // current()->refuses(...), without touching the snapshot while there are no revocations
  // (the usual case: then a token costs one relaxed load more).
  bool refuses(std::string_view jti, std::optional<UnixSeconds> issued_at, const UserIdentity& user,
               UnixSeconds now) const {
    return entries_.load(std::memory_order_acquire) != 0 &&
           current()->refuses(jti, issued_at, user, now);
  }

  Result<access::Revocation> add(access::Revocation revocation);
  Result<std::vector<access::Revocation>> list();
  // True when an entry had this id.
  Result<bool> lift(std::int64_t id);

  // Drops entries past their `until`, reloads when another process changed the database, and
  // returns the entries not returned before (whose sessions the caller ends). Failures are
  // logged; the snapshot in force stays.
  std::vector<access::Revocation> refresh(UnixSeconds now);

  // As AccessCache's: PostgreSQL (calls wait on the network), why it cannot be reached now, and
  // a wake-up when another node changed the revocations.
  bool remote() const { return store_->remote(); }
  std::string unreachable() const { return store_->unreachable(); }
  void on_change(std::function<void()> wake) { store_->on_change(std::move(wake)); }

 private:
  explicit Revocations(std::unique_ptr<access::AccessStore> store) : store_(std::move(store)) {}
  Result<void> reload();  // store_mutex_ held

  std::mutex store_mutex_;
  std::unique_ptr<access::AccessStore> store_;
  std::int64_t data_version_ = 0;
  std::atomic<std::shared_ptr<const RevocationList>> current_;
  std::atomic<std::size_t> entries_{0};  // in current_
  std::set<std::int64_t> returned_;      // ids refresh() returned, of the entries still stored
};

}  // namespace jotgate::auth
