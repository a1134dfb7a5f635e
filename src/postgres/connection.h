// postgres::Connection: one blocking libpq connection, for jotgate's access data in PostgreSQL.
// Connects with a short connect_timeout and TCP keepalives / tcp_user_timeout, so a dead server
// fails within seconds; every error is a Reason::kDatabaseUnavailable whose message() reads
// "database unavailable: <libpq message>" and never holds the password.
//   auto db = Connection::connect({"postgresql://jotgate@db/jotgate", password});
//   auto rows = (*db)->exec("SELECT id FROM t WHERE name = $1", {name});
//   for (int r = 0; r < rows->size(); ++r) use(rows->integer(r, 0));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct pg_conn;
struct pg_result;

namespace jotgate::postgres {

struct ConnectionSettings {
  std::string url;       // a libpq connection URI (postgresql://user@host:port/dbname)
  std::string password;  // "" = none (or in the URL, or ~/.pgpass)
};

// A query parameter as text; nullopt is SQL NULL.
using Param = std::optional<std::string>;
inline Param param(std::int64_t value) { return std::to_string(value); }

// The rows of one statement, cleared on scope exit.
class Rows {
 public:
  explicit Rows(pg_result* result) : result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;

  int size() const;
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  bool null(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE changed.
  std::int64_t affected() const;

 private:
  friend class Connection;
  pg_result* result_;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> connect(const ConnectionSettings& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<Rows> exec(const char* sql, const std::vector<Param>& params = {});
  // Runs `sql` (several statements allowed, no parameters).
  Result<void> exec_script(const char* sql);
  // True once the connection is lost: throw it away and connect again.
  bool broken() const;

  // For LISTEN: the socket to wait on, and after it became readable, the channel of each
  // notification that arrived (an error when the connection was lost).
  int socket() const;
  Result<std::vector<std::string>> take_notifications();

 private:
  Connection(pg_conn* conn, std::string password) : conn_(conn), password_(std::move(password)) {}
  Error failure() const;

  pg_conn* conn_;
  std::string password_;  // left out of messages
};

// Reason::kDatabaseUnavailable with libpq's message on one line, `password` (when not empty) left
// out; its message() reads "database unavailable: <message>".
Error database_unavailable(std::string_view message, const std::string& password);

}  // namespace jotgate::postgres
