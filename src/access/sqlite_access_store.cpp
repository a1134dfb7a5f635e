#include "access/sqlite_access_store.h"

#include <filesystem>
#include <system_error>

#include <sqlite3.h>

#include "sqlite/statement.h"

namespace jotgate::access {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS allocations (
  directory TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  by_seat INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (directory, user_id));
CREATE TABLE IF NOT EXISTS seats (
  directory TEXT NOT NULL,
  user_id TEXT NOT NULL,
  taken_at INTEGER NOT NULL,
  PRIMARY KEY (directory, user_id));
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('jti', 'user')),
  jti TEXT,
  user_directory TEXT,
  user_id TEXT,
  revoked_at INTEGER NOT NULL,
  until INTEGER);
CREATE TABLE IF NOT EXISTS virtual_proxies (
  prefix TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL);
)sql";

using sqlite::Statement;

}  // namespace

Result<std::unique_ptr<SqliteAccessStore>> SqliteAccessStore::open(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  const std::string path = (fs::path(data_dir) / "jotgate.db").string();
  if (ec) return make_error(Reason::kFileUnwritable, data_dir + ": " + ec.message());
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(Reason::kFileUnwritable, path + ": " + message);
  }
  std::unique_ptr<SqliteAccessStore> store(new SqliteAccessStore(db, path));
  sqlite3_busy_timeout(db, 5000);  // `jotgate access` and the gateway may write at once
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (auto done = store->exec(sql); !done) return done.error();
  }
  return store;
}

SqliteAccessStore::~SqliteAccessStore() { sqlite3_close(db_); }

Error SqliteAccessStore::failure(const std::string& what) const {
  return make_error(Reason::kFileUnwritable, path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Result<void> SqliteAccessStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "error";
    sqlite3_free(message);
    return make_error(Reason::kFileUnwritable, path_ + ": " + text);
  }
  return {};
}

Result<bool> SqliteAccessStore::grant(const UserIdentity& user, UnixSeconds now) {
  Statement insert(db_,
                   "INSERT OR IGNORE INTO allocations (directory, user_id, created_at) "
                   "VALUES (?1, ?2, ?3)");
  if (!insert.ok()) return failure("grant");
  insert.bind(1, user.directory).bind(2, user.id).bind(3, now);
  if (insert.step() != SQLITE_DONE) return failure("grant");
  return sqlite3_changes(db_) > 0;
}

Result<bool> SqliteAccessStore::revoke(const UserIdentity& user) {
  Statement remove(db_, "DELETE FROM allocations WHERE directory = ?1 AND user_id = ?2");
  if (!remove.ok()) return failure("revoke");
  remove.bind(1, user.directory).bind(2, user.id);
  if (remove.step() != SQLITE_DONE) return failure("revoke");
  return sqlite3_changes(db_) > 0;
}

Result<std::vector<Allocation>> SqliteAccessStore::list() {
  Statement select(db_,
                   "SELECT directory, user_id, created_at, last_used_at, by_seat FROM allocations "
                   "ORDER BY directory, user_id");
  if (!select.ok()) return failure("list");
  std::vector<Allocation> out;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    Allocation a;
    a.user = {select.text(0), select.text(1)};
    a.created_at = select.integer(2);
    if (!select.null(3)) a.last_used_at = select.integer(3);
    a.by_seat = select.integer(4) != 0;
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return failure("list");
  return out;
}

Result<std::int64_t> SqliteAccessStore::seats_used() {
  Statement count(db_, "SELECT COUNT(*) FROM seats");
  if (!count.ok() || count.step() != SQLITE_ROW) return failure("count seats");
  return count.integer(0);
}

Result<bool> SqliteAccessStore::take_seat(const UserIdentity& user, std::int64_t seats,
                                          UnixSeconds now) {
  // IMMEDIATE: two processes never hand out the same last seat.
  if (auto begun = exec("BEGIN IMMEDIATE"); !begun) return begun.error();
  auto finish = [&](bool granted) -> Result<bool> {
    if (auto done = exec(granted ? "COMMIT" : "ROLLBACK"); !done) return done.error();
    return granted;
  };
  Statement had(db_, "SELECT 1 FROM seats WHERE directory = ?1 AND user_id = ?2");
  had.bind(1, user.directory).bind(2, user.id);
  if (!had.ok() || had.step() == SQLITE_ROW) return finish(false);  // a seat is handed out once
  auto used = seats_used();
  if (!used) {
    (void)exec("ROLLBACK");
    return used.error();
  }
  if (*used >= seats) return finish(false);
  Statement seat(db_, "INSERT INTO seats (directory, user_id, taken_at) VALUES (?1, ?2, ?3)");
  seat.bind(1, user.directory).bind(2, user.id).bind(3, now);
  Statement allocation(
      db_,
      "INSERT OR IGNORE INTO allocations (directory, user_id, created_at, by_seat) "
      "VALUES (?1, ?2, ?3, 1)");
  allocation.bind(1, user.directory).bind(2, user.id).bind(3, now);
  if (seat.step() != SQLITE_DONE || allocation.step() != SQLITE_DONE) {
    Error error = failure("take a seat");
    (void)exec("ROLLBACK");
    return error;
  }
  return finish(true);
}

Result<void> SqliteAccessStore::record_last_use(
    const std::vector<std::pair<UserIdentity, UnixSeconds>>& uses) {
  if (uses.empty()) return {};
  if (auto begun = exec("BEGIN IMMEDIATE"); !begun) return begun;
  Statement update(db_,
                   "UPDATE allocations SET last_used_at = MAX(COALESCE(last_used_at, 0), ?3) "
                   "WHERE directory = ?1 AND user_id = ?2");
  if (!update.ok()) {
    Error error = failure("record last use");
    (void)exec("ROLLBACK");
    return error;
  }
  for (const auto& [user, at] : uses) {
    update.bind(1, user.directory).bind(2, user.id).bind(3, at);
    if (update.step() != SQLITE_DONE) {
      Error error = failure("record last use");
      (void)exec("ROLLBACK");
      return error;
    }
    update.reset();
  }
  return exec("COMMIT");
}

Result<Revocation> SqliteAccessStore::add_revocation(Revocation revocation) {
  const bool by_user = revocation.kind == Revocation::Kind::kUser;
  Statement insert(
      db_,
      "INSERT INTO revocations (kind, jti, user_directory, user_id, revoked_at, until) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert.ok()) return failure("revoke");
  insert.bind(1, std::string(by_user ? "user" : "jti")).bind(5, revocation.revoked_at);
  if (by_user) {
    insert.bind(3, revocation.user.directory).bind(4, revocation.user.id);
  } else {
    insert.bind(2, revocation.jti);
  }
  if (revocation.until) insert.bind(6, *revocation.until);
  if (insert.step() != SQLITE_DONE) return failure("revoke");
  revocation.id = sqlite3_last_insert_rowid(db_);
  return revocation;
}

Result<std::vector<Revocation>> SqliteAccessStore::revocations() {
  Statement select(db_,
                   "SELECT id, kind, jti, user_directory, user_id, revoked_at, until "
                   "FROM revocations ORDER BY id");
  if (!select.ok()) return failure("list revocations");
  std::vector<Revocation> out;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    Revocation r;
    r.id = select.integer(0);
    if (select.text(1) == "user") {
      r.kind = Revocation::Kind::kUser;
      r.user = {select.text(3), select.text(4)};
    } else {
      r.jti = select.text(2);
    }
    r.revoked_at = select.integer(5);
    if (!select.null(6)) r.until = select.integer(6);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return failure("list revocations");
  return out;
}

Result<bool> SqliteAccessStore::lift_revocation(std::int64_t id) {
  Statement remove(db_, "DELETE FROM revocations WHERE id = ?1");
  if (!remove.ok()) return failure("lift revocation");
  remove.bind(1, id);
  if (remove.step() != SQLITE_DONE) return failure("lift revocation");
  return sqlite3_changes(db_) > 0;
}

Result<std::int64_t> SqliteAccessStore::prune_revocations(UnixSeconds now) {
  Statement remove(db_, "DELETE FROM revocations WHERE until IS NOT NULL AND until <= ?1");
  if (!remove.ok()) return failure("prune revocations");
  remove.bind(1, now);
  if (remove.step() != SQLITE_DONE) return failure("prune revocations");
  return sqlite3_changes(db_);
}

Result<std::int64_t> SqliteAccessStore::data_version() {
  Statement pragma(db_, "PRAGMA data_version");
  if (!pragma.ok() || pragma.step() != SQLITE_ROW) return failure("data_version");
  return pragma.integer(0);
}

Result<std::vector<StoredVirtualProxy>> SqliteAccessStore::list_virtual_proxies() {
  Statement select(db_,
                   "SELECT prefix, document, updated_at, updated_by FROM virtual_proxies "
                   "ORDER BY prefix");
  if (!select.ok()) return failure("list virtual proxies");
  std::vector<StoredVirtualProxy> out;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    out.push_back({select.text(0), select.text(1), select.integer(2), select.text(3)});
  }
  if (rc != SQLITE_DONE) return failure("list virtual proxies");
  return out;
}

Result<bool> SqliteAccessStore::create_virtual_proxy(const StoredVirtualProxy& stored) {
  Statement insert(db_,
                   "INSERT OR IGNORE INTO virtual_proxies (prefix, document, updated_at, "
                   "updated_by) VALUES (?1, ?2, ?3, ?4)");
  if (!insert.ok()) return failure("store a virtual proxy");
  insert.bind(1, stored.prefix)
      .bind(2, stored.document)
      .bind(3, stored.updated_at)
      .bind(4, stored.updated_by);
  if (insert.step() != SQLITE_DONE) return failure("store a virtual proxy");
  return sqlite3_changes(db_) > 0;
}

Result<bool> SqliteAccessStore::replace_virtual_proxy(const StoredVirtualProxy& stored) {
  Statement update(db_,
                   "UPDATE virtual_proxies SET document = ?2, updated_at = ?3, updated_by = ?4 "
                   "WHERE prefix = ?1");
  if (!update.ok()) return failure("store a virtual proxy");
  update.bind(1, stored.prefix)
      .bind(2, stored.document)
      .bind(3, stored.updated_at)
      .bind(4, stored.updated_by);
  if (update.step() != SQLITE_DONE) return failure("store a virtual proxy");
  return sqlite3_changes(db_) > 0;
}

Result<bool> SqliteAccessStore::remove_virtual_proxy(const std::string& prefix) {
  Statement remove(db_, "DELETE FROM virtual_proxies WHERE prefix = ?1");
  if (!remove.ok()) return failure("remove a virtual proxy");
  remove.bind(1, prefix);
  if (remove.step() != SQLITE_DONE) return failure("remove a virtual proxy");
  return sqlite3_changes(db_) > 0;
}

}  // namespace jotgate::access
