#include "session/session_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include <sqlite3.h>

#include "sqlite/statement.h"

namespace jotgate::session {

namespace {

using sqlite::Statement;

// PRAGMA application_id: tells a jotgate sessions file from any other SQLite file ("jots").
constexpr std::int64_t kApplicationId = 0x6a6f7473;

constexpr const char* kSchema = R"sql(
CREATE TABLE sessions (
  prefix TEXT NOT NULL,
  id BLOB NOT NULL,
  directory TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL);
CREATE TABLE attributes (
  session INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL);
)sql";

// An open database, closed on scope exit.
class Database {
 public:
  Database(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      error_ = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    }
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* get() const { return db_; }
  // Why opening or the last statement failed.
  std::string error() const { return error_.empty() ? sqlite3_errmsg(db_) : error_; }
  bool exec(const std::string& sql) {
    return error_.empty() && sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string error_;
};

std::string system_error() { return std::strerror(errno); }

bool sync_file(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

Result<void> write_sessions(const std::string& path, const std::vector<PrefixSessions>& saved) {
  auto failure = [&](const std::string& why) { return make_error(Reason::kFileUnwritable, why); };
  // Created here rather than by SQLite, so it is 0600 whatever the umask; a leftover of a crash
  // is truncated.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return failure(system_error());
  const bool private_mode = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!private_mode) return failure(system_error());

  Database db(path, SQLITE_OPEN_READWRITE);
  // No journal: the file is new and only renamed into place once whole.
  if (!db.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA application_id=" +
               std::to_string(kApplicationId) + "; PRAGMA user_version=" +
               std::to_string(kSessionFileVersion) + "; BEGIN;" + kSchema)) {
    return failure(db.error());
  }
  Statement session(db.get(),
                    "INSERT INTO sessions (prefix, id, directory, user_id, created_at, last_seen) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  Statement attribute(db.get(),
                      "INSERT INTO attributes (session, name, value) VALUES (?1, ?2, ?3)");
  if (!session.ok() || !attribute.ok()) return failure(db.error());
  for (const PrefixSessions& group : saved) {
    for (const SavedSession& s : group.sessions) {
      session.bind(1, group.prefix)
          .bind_blob(2, std::string_view(reinterpret_cast<const char*>(s.id.data()), s.id.size()))
          .bind(3, s.user.directory)
          .bind(4, s.user.id)
          .bind(5, s.created_at)
          .bind(6, s.last_seen);
      if (session.step() != SQLITE_DONE) return failure(db.error());
      session.reset();
      const std::int64_t row = sqlite3_last_insert_rowid(db.get());
      for (const auto& [name, value] : s.attributes) {
        attribute.bind(1, row).bind(2, name).bind(3, value);
        if (attribute.step() != SQLITE_DONE) return failure(db.error());
        attribute.reset();
      }
    }
  }
  if (!db.exec("COMMIT")) return failure(db.error());
  return {};
}

}  // namespace

Result<void> write_session_file(const std::string& path, const std::vector<PrefixSessions>& saved) {
  const std::string temporary = path + ".tmp";
  Result<void> written = write_sessions(temporary, saved);
  if (written && !sync_file(temporary, O_RDONLY)) {
    written = make_error(Reason::kFileUnwritable, system_error());
  }
  if (written && std::rename(temporary.c_str(), path.c_str()) != 0) {
    written = make_error(Reason::kFileUnwritable, system_error());
  }
  if (!written) {
    ::unlink(temporary.c_str());
    return make_error(Reason::kFileUnwritable, path + ": " + written.error().detail);
  }
  // The rename itself survives a power loss once the folder is synced.
  const std::string folder = std::filesystem::path(path).parent_path().string();
  sync_file(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY);
  return {};
}

Result<std::vector<PrefixSessions>> read_session_file(const std::string& path) {
  auto unreadable = [&](const std::string& why) {
    return make_error(Reason::kFileUnreadable, path + ": " + why);
  };
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return unreadable(system_error());
  Database db(path, SQLITE_OPEN_READONLY);
  Statement application(db.get(), "PRAGMA application_id");
  if (!application.ok() || application.step() != SQLITE_ROW) return unreadable(db.error());
  if (application.integer(0) != kApplicationId) return unreadable("not a jotgate sessions file");
  Statement version(db.get(), "PRAGMA user_version");
  if (!version.ok() || version.step() != SQLITE_ROW) return unreadable(db.error());
  if (version.integer(0) != kSessionFileVersion) {
    return unreadable("format version " + std::to_string(version.integer(0)) +
                      ", this jotgate reads version " + std::to_string(kSessionFileVersion));
  }
  Statement select(db.get(),
                   "SELECT s.rowid, s.prefix, s.id, s.directory, s.user_id, s.created_at, "
                   "s.last_seen, a.name, a.value FROM sessions s "
                   "LEFT JOIN attributes a ON a.session = s.rowid ORDER BY s.rowid, a.rowid");
  if (!select.ok()) return unreadable(db.error());
  std::vector<PrefixSessions> out;
  std::map<std::string, std::size_t, std::less<>> group_of_prefix;
  std::int64_t current_row = 0;
  SavedSession* current = nullptr;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    if (current == nullptr || select.integer(0) != current_row) {
      const std::string_view id = select.blob(2);
      SavedSession session;
      if (id.size() != session.id.size()) return unreadable("a session id is not 32 bytes");
      std::memcpy(session.id.data(), id.data(), id.size());
      session.user = {select.text(3), select.text(4)};
      session.created_at = select.integer(5);
      session.last_seen = select.integer(6);
      const std::string prefix = select.text(1);
      auto [group, added] = group_of_prefix.try_emplace(prefix, out.size());
      if (added) out.push_back({prefix, {}});
      std::vector<SavedSession>& sessions = out[group->second].sessions;
      sessions.push_back(std::move(session));
      current = &sessions.back();
      current_row = select.integer(0);
    }
    if (!select.null(7)) current->attributes.emplace_back(select.text(7), select.text(8));
  }
  if (rc != SQLITE_DONE) return unreadable(db.error());
  return out;
}

}  // namespace jotgate::session
