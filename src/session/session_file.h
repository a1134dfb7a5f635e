// The sessions file: live sessions of every virtual proxy saved across a restart, by prefix, in
// SQLite at <data_dir>/sessions.db. It holds the session ids themselves (a lookup needs the id,
// not a keyed form of it), so it is a secret like the cookies: mode 0600, never logged.
//   write_session_file(path, {{"jwt", store.export_sessions(now)}});
//   auto saved = read_session_file(path);   // Result<std::vector<PrefixSessions>>
//   if (saved) store.import_sessions(std::move(saved->at(0).sessions), now);
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "session/session_store.h"

namespace jotgate::session {

struct PrefixSessions {
  std::string prefix;  // of the virtual proxy the sessions belong to
  std::vector<SavedSession> sessions;
};

// The format this build writes and reads (PRAGMA user_version); any other is refused.
constexpr int kSessionFileVersion = 1;

// Writes a temporary file in the same folder (mode 0600, synced) and renames it over `path`, so
// a crash mid-write leaves the previous file whole. Errors: kFileUnwritable with the reason.
Result<void> write_session_file(const std::string& path, const std::vector<PrefixSessions>& saved);

// The sessions in the file, grouped by prefix. Errors: kFileUnreadable when the file is missing,
// not a database, not a jotgate sessions file, another format version, or malformed; the detail
// says which.
Result<std::vector<PrefixSessions>> read_session_file(const std::string& path);

}  // namespace jotgate::session
