// PostgresServer: a private PostgreSQL 15 server for the tests, in a temporary folder on a free
// port (initdb, then pg_ctl), run as the `postgres` system user (or `nobody`) when the tests run
// as root, since PostgreSQL refuses root. Trust authentication on loopback and the socket, except
// for the role `jotgate_password` (password "pw-secret", scram-sha-256).
//   PostgresServer server;  if (!server.available()) GTEST_SKIP() << server.why_unavailable();
//   std::string url = server.create_database("t1");   // postgresql://postgres@127.0.0.1:P/t1
//   server.stop();  server.start();                    // same folder, same port
#pragma once

#include <filesystem>
#include <string>

namespace jotgate::testing {

class PostgresServer {
 public:
  static constexpr const char* kPasswordRole = "jotgate_password";
  static constexpr const char* kPassword = "pw-secret";

  PostgresServer();  // initdb and start; available() tells whether that worked
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool available() const { return why_unavailable_.empty(); }
  const std::string& why_unavailable() const { return why_unavailable_; }

  // A new empty database, and the URL of it (user postgres, no password).
  std::string create_database(const std::string& name);
  // The URL of `database` for the password role (the password not in it).
  std::string password_url(const std::string& database) const;
  int port() const { return port_; }

  bool start();
  bool stop();

 private:
  // Runs a shell command as the server's user; true when it exited 0.
  bool run(const std::string& command) const;
  bool psql(const std::string& database, const std::string& sql) const;

  std::filesystem::path dir_;
  std::string user_;  // "" = this user
  int port_ = 0;
  std::string why_unavailable_;
};

}  // namespace jotgate::testing
