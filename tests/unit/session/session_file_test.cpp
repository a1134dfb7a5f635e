// The sessions file: what is written comes back whole, by prefix; the file is 0600 and replaced
// by rename; a missing, corrupt, foreign or other-version file is refused with its reason.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "session/memory_session_store.h"
#include "session/session_file.h"

namespace jotgate::session {
namespace {

namespace fs = std::filesystem;

class SessionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-session-file-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "sessions.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<PrefixSessions> two_prefixes() {
    MemorySessionStore jwt(SessionLimits{});
    jwt.create({"ACME", "alice"}, {{"X-Groups", "a,b"}, {"X-Email", "alice@example.test"}}, 1000);
    jwt.create({"ACME", "bob"}, {}, 1001);
    MemorySessionStore root(SessionLimits{});
    root.create({"OTHER", "carol"}, {{"X-Level", ""}}, 1002);
    return {{"jwt", jwt.export_sessions(1003)}, {"", root.export_sessions(1003)}};
  }

  void write_bytes(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }

  void sql(const std::string& statements) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, statements.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::string read_error() {
    auto read = read_session_file(path_);
    EXPECT_FALSE(read.ok());
    if (read) return "";
    EXPECT_EQ(read.error().reason, Reason::kFileUnreadable);
    return read.error().detail;
  }

  fs::path dir_;
  std::string path_;
};

void expect_same(const SavedSession& a, const SavedSession& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.attributes, b.attributes);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_seen, b.last_seen);
}

TEST_F(SessionFileTest, WhatIsWrittenComesBackWholeByPrefix) {
  const auto written = two_prefixes();
  ASSERT_TRUE(write_session_file(path_, written).ok());
  auto read = read_session_file(path_);
  ASSERT_TRUE(read.ok()) << read.error().detail;
  ASSERT_EQ(read->size(), 2u);
  for (std::size_t g = 0; g < 2; ++g) {
    EXPECT_EQ((*read)[g].prefix, written[g].prefix);
    ASSERT_EQ((*read)[g].sessions.size(), written[g].sessions.size());
    for (std::size_t i = 0; i < written[g].sessions.size(); ++i) {
      expect_same((*read)[g].sessions[i], written[g].sessions[i]);
    }
  }
}

TEST_F(SessionFileTest, RestoredCookiesFindTheirSessions) {
  MemorySessionStore before(SessionLimits{60, 0});
  auto created = before.create({"ACME", "alice"}, {{"X-Groups", "a"}}, 1000);
  ASSERT_TRUE(write_session_file(path_, {{"jwt", before.export_sessions(1000)}}).ok());
  auto read = read_session_file(path_);
  ASSERT_TRUE(read.ok());
  MemorySessionStore after(SessionLimits{60, 0});
  EXPECT_EQ(after.import_sessions(std::move(read->at(0).sessions), 1030).restored, 1u);
  auto found = after.lookup(created.cookie_value, 1030);
  ASSERT_EQ(found.status, LookupStatus::kFound);
  EXPECT_EQ(found.session.user.qualified(), "ACME\\alice");
}

TEST_F(SessionFileTest, NoSessionsIsAValidFile) {
  ASSERT_TRUE(write_session_file(path_, {}).ok());
  auto read = read_session_file(path_);
  ASSERT_TRUE(read.ok()) << read.error().detail;
  EXPECT_TRUE(read->empty());
}

TEST_F(SessionFileTest, TheFileIsPrivateAndReplacedByRename) {
  // A leftover temporary file of a crash, readable by others: truncated, made 0600, renamed.
  std::ofstream(path_ + ".tmp") << "half a file";
  fs::permissions(path_ + ".tmp", fs::perms(0644));
  ::umask(0);
  ASSERT_TRUE(write_session_file(path_, two_prefixes()).ok());
  ::umask(022);
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(path_ + ".tmp"));
  const ino_t first = info.st_ino;
  ASSERT_TRUE(write_session_file(path_, {}).ok());
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_NE(info.st_ino, first);  // a new file took its place, not a rewrite in place
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // Nothing else is left in the folder (no journal).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(SessionFileTest, AFailedWriteLeavesThePreviousFileWhole) {
  ASSERT_TRUE(write_session_file(path_, two_prefixes()).ok());
  fs::create_directories(path_ + ".tmp");  // the temporary file cannot be created
  auto failed = write_session_file(path_, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().reason, Reason::kFileUnwritable);
  EXPECT_EQ(failed.error().detail, path_ + ": Is a directory");
  auto read = read_session_file(path_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 2u);
}

TEST_F(SessionFileTest, MissingFile) {
  EXPECT_EQ(read_error(), path_ + ": No such file or directory");
}

TEST_F(SessionFileTest, GarbageIsNotADatabase) {
  write_bytes(std::string(4096, '\x5a'));
  EXPECT_EQ(read_error(), path_ + ": file is not a database");
}

TEST_F(SessionFileTest, TruncatedFileIsRefused) {
  ASSERT_TRUE(write_session_file(path_, two_prefixes()).ok());
  fs::resize_file(path_, 100);
  EXPECT_FALSE(read_error().empty());
}

TEST_F(SessionFileTest, AnotherSqliteFileIsForeign) {
  sql("CREATE TABLE sessions (x); INSERT INTO sessions VALUES (1)");
  EXPECT_EQ(read_error(), path_ + ": not a jotgate sessions file");
}

TEST_F(SessionFileTest, AnotherFormatVersionIsRefused) {
  ASSERT_TRUE(write_session_file(path_, two_prefixes()).ok());
  sql("PRAGMA user_version = 2");
  EXPECT_EQ(read_error(), path_ + ": format version 2, this jotgate reads version 1");
}

TEST_F(SessionFileTest, AMalformedIdIsRefused) {
  ASSERT_TRUE(write_session_file(path_, two_prefixes()).ok());
  sql("UPDATE sessions SET id = x'0102' WHERE rowid = 2");
  EXPECT_EQ(read_error(), path_ + ": a session id is not 32 bytes");
}

}  // namespace
}  // namespace jotgate::session
