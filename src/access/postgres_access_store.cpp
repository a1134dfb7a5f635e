#include "access/postgres_access_store.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>

namespace jotgate::access {

namespace {

using postgres::Connection;
using postgres::Param;
using postgres::param;
using postgres::Rows;
using Clock = std::chrono::steady_clock;

constexpr const char* kChannel = "jotgate_access_changed";
constexpr const char* kVirtualProxiesChannel = "jotgate_virtual_proxies_changed";
// Advisory lock keys (any 64-bit numbers other applications are unlikely to pick).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7093615048360017921)";
constexpr const char* kSeatLock = "SELECT pg_advisory_xact_lock(7093615048360017922)";
constexpr std::chrono::milliseconds kFirstBackoff{200};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

// Versioned migrations, applied in order, each once per database. Never edit one that shipped:
// add the next.
struct Migration {
  int version;
  const char* sql;
};
constexpr std::array<Migration, 2> kMigrations = {{
    {1, R"sql(
CREATE TABLE jotgate_allocations (
  directory TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  by_seat BOOLEAN NOT NULL DEFAULT false,
  PRIMARY KEY (directory, user_id));
CREATE TABLE jotgate_seats (
  directory TEXT NOT NULL,
  user_id TEXT NOT NULL,
  taken_at BIGINT NOT NULL,
  PRIMARY KEY (directory, user_id));
CREATE TABLE jotgate_revocations (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('jti', 'user')),
  jti TEXT,
  user_directory TEXT,
  user_id TEXT,
  revoked_at BIGINT NOT NULL,
  until BIGINT);
-- Every node listens: a change to allocations, seats or revocations is applied everywhere at
-- once. Notifications are sent at commit and collapsed per transaction. last_used_at is not
-- watched, or every node would reload every second.
CREATE FUNCTION jotgate_notify_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jotgate_access_changed', '');
  RETURN NULL;
END $$;
CREATE TRIGGER jotgate_allocations_changed
  AFTER INSERT OR DELETE OR UPDATE OF directory, user_id, created_at, by_seat
  ON jotgate_allocations FOR EACH ROW EXECUTE FUNCTION jotgate_notify_access_changed();
CREATE TRIGGER jotgate_seats_changed AFTER INSERT OR DELETE OR UPDATE
  ON jotgate_seats FOR EACH ROW EXECUTE FUNCTION jotgate_notify_access_changed();
CREATE TRIGGER jotgate_revocations_changed AFTER INSERT OR DELETE OR UPDATE
  ON jotgate_revocations FOR EACH ROW EXECUTE FUNCTION jotgate_notify_access_changed();
)sql"},
    {2, R"sql(
-- The virtual proxies created through the admin API: every node serves them, and reloads
-- when one changes (its own channel: an access change needs no reload).
CREATE TABLE jotgate_virtual_proxies (
  prefix TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL);
CREATE FUNCTION jotgate_notify_virtual_proxies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('jotgate_virtual_proxies_changed', '');
  RETURN NULL;
END $$;
CREATE TRIGGER jotgate_virtual_proxies_changed AFTER INSERT OR DELETE OR UPDATE
  ON jotgate_virtual_proxies FOR EACH ROW
  EXECUTE FUNCTION jotgate_notify_virtual_proxies_changed();
)sql"},
}};

// BEGIN, `work`, then COMMIT, or ROLLBACK when it failed.
template <class T>
Result<T> in_transaction(Connection& db, const std::function<Result<T>(Connection&)>& work) {
  if (auto begun = db.exec("BEGIN"); !begun) return begun.error();
  Result<T> result = work(db);
  if (!result) {
    if (!db.broken()) (void)db.exec("ROLLBACK");
    return result;
  }
  if (auto committed = db.exec("COMMIT"); !committed) return committed.error();
  return result;
}

Result<void> migrate(Connection& db) {
  return in_transaction<void>(db, [](Connection& tx) -> Result<void> {
    // One node migrates at a time; the others wait, then find nothing left to do.
    if (auto locked = tx.exec(kMigrationLock); !locked) return locked.error();
    if (auto created =
            tx.exec("CREATE TABLE IF NOT EXISTS jotgate_schema_migrations ("
                    "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
        !created) {
      return created.error();
    }
    auto current = tx.exec("SELECT COALESCE(MAX(version), 0) FROM jotgate_schema_migrations");
    if (!current) return current.error();
    const std::int64_t applied = current->integer(0, 0);
    for (const Migration& migration : kMigrations) {
      if (migration.version <= applied) continue;
      if (auto done = tx.exec_script(migration.sql); !done) return done;
      if (auto noted = tx.exec("INSERT INTO jotgate_schema_migrations (version) VALUES ($1)",
                               {param(migration.version)});
          !noted) {
        return noted.error();
      }
    }
    return {};
  });
}

Result<std::unique_ptr<Connection>> listening_connection(
    const postgres::ConnectionSettings& settings) {
  auto db = Connection::connect(settings);
  if (!db) return db.error();
  for (const char* channel : {kChannel, kVirtualProxiesChannel}) {
    if (auto listening = (*db)->exec((std::string("LISTEN ") + channel).c_str()); !listening) {
      return listening.error();
    }
  }
  return db;
}

}  // namespace

PostgresAccessStore::PostgresAccessStore(postgres::ConnectionSettings settings)
    : settings_(std::move(settings)) {}

Result<std::unique_ptr<PostgresAccessStore>> PostgresAccessStore::open(
    const postgres::ConnectionSettings& settings) {
  std::unique_ptr<PostgresAccessStore> store(new PostgresAccessStore(settings));
  auto db = Connection::connect(settings);
  if (!db) return db.error();
  if (auto migrated = migrate(**db); !migrated) return migrated.error();
  store->connection_ = std::move(*db);
  // Listening before the caller's first read: no change committed after it is missed.
  auto listening = listening_connection(settings);
  if (!listening) return listening.error();
  if (::pipe(store->stop_pipe_) != 0) {
    return make_error(Reason::kDatabaseUnavailable, "cannot create a pipe");
  }
  store->listener_ = std::thread([s = store.get(), first = std::move(*listening)]() mutable {
    s->listen_loop(std::move(first));
  });
  return store;
}

PostgresAccessStore::~PostgresAccessStore() {
  stopping_.store(true);
  if (stop_pipe_[1] >= 0) {
    const char byte = 0;
    (void)::write(stop_pipe_[1], &byte, 1);
  }
  if (listener_.joinable()) listener_.join();
  for (int fd : stop_pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

std::string PostgresAccessStore::unreachable() const {
  std::lock_guard lock(problem_mutex_);
  return problem_;
}

void PostgresAccessStore::note_problem(const std::string& problem) {
  std::lock_guard lock(problem_mutex_);
  problem_ = problem;
}

void PostgresAccessStore::on_change(std::function<void()> wake) {
  std::lock_guard lock(wake_mutex_);
  wake_ = std::move(wake);
}

void PostgresAccessStore::changed() {
  version_.fetch_add(1);
  std::function<void()> wake;
  {
    std::lock_guard lock(wake_mutex_);
    wake = wake_;
  }
  if (wake) wake();
}

template <class T>
Result<T> PostgresAccessStore::with_connection(const std::function<Result<T>(Connection&)>& work) {
  std::lock_guard lock(connection_mutex_);
  if (!connection_) {
    // Within the backoff after a failure, fail at once with the last error.
    if (Clock::now() < retry_at_) {
      return make_error(Reason::kDatabaseUnavailable, connection_error_);  // libpq's words
    }
    auto db = Connection::connect(settings_);
    if (!db) {
      backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
      retry_at_ = Clock::now() + backoff_;
      connection_error_ = db.error().detail;
      note_problem(db.error().message());
      return db.error();
    }
    connection_ = std::move(*db);
    backoff_ = std::chrono::milliseconds(0);
  }
  Result<T> result = work(*connection_);
  if (!result && connection_->broken()) {
    connection_.reset();
    backoff_ = kFirstBackoff;
    retry_at_ = Clock::now() + backoff_;
    connection_error_ = result.error().detail;
    note_problem(result.error().message());
  } else if (result) {
    note_problem("");
  }
  return result;
}

// Waits for notifications; reconnects (with backoff) when the connection is lost, and then
// counts a change, since notifications sent meanwhile were lost with it.
void PostgresAccessStore::listen_loop(std::unique_ptr<Connection> db) {
  std::chrono::milliseconds backoff{0};
  bool lost = false;
  const auto wait = [&](std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {db ? db->socket() : -1, POLLIN, 0}};
    return ::poll(fds, db ? 2 : 1, static_cast<int>(timeout.count())) > 0 &&
           (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && db;
  };
  while (!stopping_.load()) {
    if (!db) {
      auto connected = listening_connection(settings_);
      if (!connected) {
        note_problem(connected.error().message());
        backoff = std::clamp(backoff * 2, kFirstBackoff, kMaxBackoff);
        wait(backoff);
        continue;
      }
      db = std::move(*connected);
      backoff = std::chrono::milliseconds(0);
      note_problem("");
      if (lost) {
        changed();
        virtual_proxies_changed();
      }
      lost = false;
    }
    if (!wait(std::chrono::milliseconds(1000))) continue;
    auto notifications = db->take_notifications();
    if (!notifications) {
      note_problem(notifications.error().message());
      db.reset();
      lost = true;
      continue;
    }
    const auto on = [&](const char* channel) {
      return std::find(notifications->begin(), notifications->end(), channel) !=
             notifications->end();
    };
    if (on(kChannel)) changed();
    if (on(kVirtualProxiesChannel)) virtual_proxies_changed();
  }
}

Result<bool> PostgresAccessStore::grant(const UserIdentity& user, UnixSeconds now) {
  return with_connection<bool>([&](Connection& db) -> Result<bool> {
    auto inserted = db.exec(
        "INSERT INTO jotgate_allocations (directory, user_id, created_at) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        {user.directory, user.id, param(now)});
    if (!inserted) return inserted.error();
    return inserted->affected() > 0;
  });
}

Result<bool> PostgresAccessStore::revoke(const UserIdentity& user) {
  return with_connection<bool>([&](Connection& db) -> Result<bool> {
    auto removed = db.exec("DELETE FROM jotgate_allocations WHERE directory = $1 AND user_id = $2",
                           {user.directory, user.id});
    if (!removed) return removed.error();
    return removed->affected() > 0;
  });
}

Result<std::vector<Allocation>> PostgresAccessStore::list() {
  return with_connection<std::vector<Allocation>>(
      [](Connection& db) -> Result<std::vector<Allocation>> {
        // Byte order, as SQLite sorts.
        auto rows = db.exec(
            "SELECT directory, user_id, created_at, last_used_at, by_seat "
            "FROM jotgate_allocations ORDER BY directory COLLATE \"C\", user_id COLLATE \"C\"");
        if (!rows) return rows.error();
        std::vector<Allocation> out;
        out.reserve(static_cast<std::size_t>(rows->size()));
        for (int r = 0; r < rows->size(); ++r) {
          Allocation a;
          a.user = {rows->text(r, 0), rows->text(r, 1)};
          a.created_at = rows->integer(r, 2);
          if (!rows->null(r, 3)) a.last_used_at = rows->integer(r, 3);
          a.by_seat = rows->text(r, 4) == "t";
          out.push_back(std::move(a));
        }
        return out;
      });
}

Result<std::int64_t> PostgresAccessStore::seats_used() {
  return with_connection<std::int64_t>([](Connection& db) -> Result<std::int64_t> {
    auto count = db.exec("SELECT COUNT(*) FROM jotgate_seats");
    if (!count) return count.error();
    return count->integer(0, 0);
  });
}

Result<bool> PostgresAccessStore::take_seat(const UserIdentity& user, std::int64_t seats,
                                            UnixSeconds now) {
  return with_connection<bool>([&](Connection& db) {
    return in_transaction<bool>(db, [&](Connection& tx) -> Result<bool> {
      // One seat hand-out at a time across all nodes: the count read next is the one committed.
      if (auto locked = tx.exec(kSeatLock); !locked) return locked.error();
      auto had = tx.exec("SELECT 1 FROM jotgate_seats WHERE directory = $1 AND user_id = $2",
                         {user.directory, user.id});
      if (!had) return had.error();
      if (had->size() > 0) return false;  // a seat is handed out once
      auto used = tx.exec("SELECT COUNT(*) FROM jotgate_seats");
      if (!used) return used.error();
      if (used->integer(0, 0) >= seats) return false;
      if (auto seat = tx.exec(
              "INSERT INTO jotgate_seats (directory, user_id, taken_at) VALUES ($1, $2, $3)",
              {user.directory, user.id, param(now)});
          !seat) {
        return seat.error();
      }
      if (auto allocation =
              tx.exec("INSERT INTO jotgate_allocations (directory, user_id, created_at, by_seat) "
                      "VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING",
                      {user.directory, user.id, param(now)});
          !allocation) {
        return allocation.error();
      }
      return true;
    });
  });
}

Result<void> PostgresAccessStore::record_last_use(
    const std::vector<std::pair<UserIdentity, UnixSeconds>>& uses) {
  if (uses.empty()) return {};
  return with_connection<void>([&](Connection& db) {
    return in_transaction<void>(db, [&](Connection& tx) -> Result<void> {
      for (const auto& [user, at] : uses) {
        if (auto updated = tx.exec(
                "UPDATE jotgate_allocations SET last_used_at = GREATEST(COALESCE(last_used_at, "
                "0), $3) WHERE directory = $1 AND user_id = $2",
                {user.directory, user.id, param(at)});
            !updated) {
          return updated.error();
        }
      }
      return {};
    });
  });
}

Result<Revocation> PostgresAccessStore::add_revocation(Revocation revocation) {
  return with_connection<Revocation>([&](Connection& db) -> Result<Revocation> {
    const bool by_user = revocation.kind == Revocation::Kind::kUser;
    auto inserted = db.exec(
        "INSERT INTO jotgate_revocations (kind, jti, user_directory, user_id, revoked_at, until) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        {std::string(by_user ? "user" : "jti"), by_user ? Param() : Param(revocation.jti),
         by_user ? Param(revocation.user.directory) : Param(),
         by_user ? Param(revocation.user.id) : Param(), param(revocation.revoked_at),
         revocation.until ? param(*revocation.until) : Param()});
    if (!inserted) return inserted.error();
    Revocation added = revocation;
    added.id = inserted->integer(0, 0);
    return added;
  });
}

Result<std::vector<Revocation>> PostgresAccessStore::revocations() {
  return with_connection<std::vector<Revocation>>(
      [](Connection& db) -> Result<std::vector<Revocation>> {
        auto rows = db.exec(
            "SELECT id, kind, jti, user_directory, user_id, revoked_at, until "
            "FROM jotgate_revocations ORDER BY id");
        if (!rows) return rows.error();
        std::vector<Revocation> out;
        out.reserve(static_cast<std::size_t>(rows->size()));
        for (int r = 0; r < rows->size(); ++r) {
          Revocation revocation;
          revocation.id = rows->integer(r, 0);
          if (rows->text(r, 1) == "user") {
            revocation.kind = Revocation::Kind::kUser;
            revocation.user = {rows->text(r, 3), rows->text(r, 4)};
          } else {
            revocation.jti = rows->text(r, 2);
          }
          revocation.revoked_at = rows->integer(r, 5);
          if (!rows->null(r, 6)) revocation.until = rows->integer(r, 6);
          out.push_back(std::move(revocation));
        }
        return out;
      });
}

Result<bool> PostgresAccessStore::lift_revocation(std::int64_t id) {
  return with_connection<bool>([&](Connection& db) -> Result<bool> {
    auto removed = db.exec("DELETE FROM jotgate_revocations WHERE id = $1", {param(id)});
    if (!removed) return removed.error();
    return removed->affected() > 0;
  });
}

Result<std::int64_t> PostgresAccessStore::prune_revocations(UnixSeconds now) {
  return with_connection<std::int64_t>([&](Connection& db) -> Result<std::int64_t> {
    auto removed = db.exec(
        "DELETE FROM jotgate_revocations WHERE until IS NOT NULL AND until <= $1", {param(now)});
    if (!removed) return removed.error();
    return removed->affected();
  });
}

void PostgresAccessStore::on_virtual_proxies_change(std::function<void()> wake) {
  std::lock_guard lock(wake_mutex_);
  virtual_proxies_wake_ = std::move(wake);
}

void PostgresAccessStore::virtual_proxies_changed() {
  std::function<void()> wake;
  {
    std::lock_guard lock(wake_mutex_);
    wake = virtual_proxies_wake_;
  }
  if (wake) wake();
}

Result<std::vector<StoredVirtualProxy>> PostgresAccessStore::list_virtual_proxies() {
  return with_connection<
      std::vector<StoredVirtualProxy>>([](Connection& db)
                                           -> Result<std::vector<StoredVirtualProxy>> {
    auto rows = db.exec(
        "SELECT prefix, document, updated_at, updated_by FROM jotgate_virtual_proxies "
        "ORDER BY prefix");
    if (!rows) return rows.error();
    std::vector<StoredVirtualProxy> out;
    for (int r = 0; r < rows->size(); ++r) {
      out.push_back({rows->text(r, 0), rows->text(r, 1), rows->integer(r, 2), rows->text(r, 3)});
    }
    return out;
  });
}

Result<bool> PostgresAccessStore::create_virtual_proxy(const StoredVirtualProxy& stored) {
  return with_connection<bool>([&](Connection& db) -> Result<bool> {
    auto rows = db.exec(
        "INSERT INTO jotgate_virtual_proxies (prefix, document, updated_at, updated_by) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (prefix) DO NOTHING",
        {stored.prefix, stored.document, param(stored.updated_at), stored.updated_by});
    if (!rows) return rows.error();
    return rows->affected() > 0;
  });
}

Result<bool> PostgresAccessStore::replace_virtual_proxy(const StoredVirtualProxy& stored) {
  return with_connection<bool>([&](Connection& db) -> Result<bool> {
    auto rows = db.exec(
        "UPDATE jotgate_virtual_proxies SET document = $2, updated_at = $3, updated_by = $4 "
        "WHERE prefix = $1",
        {stored.prefix, stored.document, param(stored.updated_at), stored.updated_by});
    if (!rows) return rows.error();
    return rows->affected() > 0;
  });
}

Result<bool> PostgresAccessStore::remove_virtual_proxy(const std::string& prefix) {
  return with_connection<bool>([&](Connection& db) -> Result<bool> {
    auto rows = db.exec("DELETE FROM jotgate_virtual_proxies WHERE prefix = $1", {prefix});
    if (!rows) return rows.error();
    return rows->affected() > 0;
  });
}

}  // namespace jotgate::access
