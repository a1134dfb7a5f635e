// Statement: one prepared SQLite statement, finalized on scope exit, with the few binds and
// column reads jotgate's files need (access allocations, saved sessions).
//   Statement insert(db, "INSERT INTO t (a, b) VALUES (?1, ?2)");
//   if (!insert.ok()) return failure(sqlite3_errmsg(db));
//   insert.bind(1, name).bind(2, now);  if (insert.step() != SQLITE_DONE) ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace jotgate::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(int index, const std::string& text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_blob(int index, std::string_view bytes);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  // Ready to step again with new binds.
  void reset();

  std::string text(int column) const;
  std::string_view blob(int column) const;  // valid until the next step
  std::int64_t integer(int column) const;
  bool null(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace jotgate::sqlite
