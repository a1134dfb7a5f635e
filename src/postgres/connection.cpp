#include "postgres/connection.h"

#include <libpq-fe.h>

#include <array>
#include <cstdlib>

#include "base/text.h"

namespace jotgate::postgres {

namespace {

// libpq's messages end with a newline and may span lines; a log line wants one line.
std::string one_line(std::string_view message) {
  std::string out;
  for (char c : message) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void ignore_notice(void*, const char*) {}

std::string without(std::string message, const std::string& secret) {
  if (secret.empty()) return message;
  for (std::size_t at = message.find(secret); at != std::string::npos;
       at = message.find(secret, at)) {
    message.replace(at, secret.size(), "***");
  }
  return message;
}

}  // namespace

Error database_unavailable(std::string_view message, const std::string& password) {
  return make_error(Reason::kDatabaseUnavailable, without(one_line(message), password));
}

Rows::~Rows() { PQclear(result_); }
int Rows::size() const { return PQntuples(result_); }
std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<std::size_t>(PQgetlength(result_, row, column)));
}
std::int64_t Rows::integer(int row, int column) const {
  return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10);
}
bool Rows::null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
std::int64_t Rows::affected() const {
  const char* count = PQcmdTuples(result_);
  return count[0] == '\0' ? 0 : std::strtoll(count, nullptr, 10);
}

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectionSettings& settings) {
  // A dead server fails in seconds: connect_timeout for the connection, keepalives and
  // tcp_user_timeout (Linux) for one that stops answering later.
  const std::array<const char*, 10> keys = {"dbname",           "password",
                                            "connect_timeout",  "keepalives",
                                            "keepalives_idle",  "keepalives_interval",
                                            "keepalives_count", "tcp_user_timeout",
                                            "application_name", nullptr};
  const std::array<const char*, 10> values = {
      settings.url.c_str(),
      settings.password.empty() ? nullptr : settings.password.c_str(),
      "3",
      "1",
      "5",
      "2",
      "3",
      "5000",
      "jotgate",
      nullptr};
  // expand_dbname = 1: the URI in "dbname" sets host, port, user and database; the keywords
  // after it (the password file's password, the timeouts) are applied on top.
  pg_conn* conn = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn == nullptr) return database_unavailable("out of memory", settings.password);
  if (PQstatus(conn) != CONNECTION_OK) {
    Error error = database_unavailable(PQerrorMessage(conn), settings.password);
    PQfinish(conn);
    return error;
  }
  PQsetNoticeProcessor(conn, ignore_notice, nullptr);  // "already exists, skipping" and the like
  return std::unique_ptr<Connection>(new Connection(conn, settings.password));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

Error Connection::failure() const {
  std::string message = PQerrorMessage(conn_);
  if (broken()) return database_unavailable(std::move(message), password_);
  return make_error(Reason::kDatabaseUnavailable, without(one_line(message), password_));
}

Result<Rows> Connection::exec(const char* sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  Rows rows(PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                         nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(rows.result_);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure();
  return rows;
}

Result<void> Connection::exec_script(const char* sql) {
  Rows rows(PQexec(conn_, sql));
  const ExecStatusType status = PQresultStatus(rows.result_);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure();
  return {};
}

int Connection::socket() const { return PQsocket(conn_); }

Result<std::vector<std::string>> Connection::take_notifications() {
  if (PQconsumeInput(conn_) == 0) return database_unavailable(PQerrorMessage(conn_), password_);
  std::vector<std::string> channels;
  while (PGnotify* notify = PQnotifies(conn_)) {
    channels.emplace_back(notify->relname);
    PQfreemem(notify);
  }
  return channels;
}

}  // namespace jotgate::postgres
