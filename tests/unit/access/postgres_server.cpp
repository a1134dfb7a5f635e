#include "postgres_server.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "../free_port.h"

namespace jotgate::testing {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

std::string quoted(const std::string& text) { return "'" + text + "'"; }

}  // namespace

PostgresServer::PostgresServer() {
  if (!fs::exists(fs::path(kBin) / "initdb") || !fs::exists(fs::path(kBin) / "pg_ctl")) {
    why_unavailable_ = std::string("PostgreSQL 15 is not installed (") + kBin +
                       "/initdb missing): scripts/install-deps installs postgresql";
    return;
  }
  std::random_device random;
  dir_ = fs::temp_directory_path() /
         ("jotgate-pg-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1000000));
  fs::create_directories(dir_);
  if (::geteuid() == 0) {
    user_ = ::getpwnam("postgres") != nullptr ? "postgres" : "nobody";
    const passwd* pw = ::getpwnam(user_.c_str());
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      why_unavailable_ = "cannot hand " + dir_.string() + " to " + user_;
      return;
    }
  }
  port_ = free_port();
  if (!run(std::string(kBin) + "/initdb --no-sync -A trust -U postgres -E UTF8 -D " +
           quoted((dir_ / "data").string()) + " >" + quoted((dir_ / "initdb.log").string()) +
           " 2>&1")) {
    why_unavailable_ = "initdb failed: see " + (dir_ / "initdb.log").string();
    return;
  }
  // The password role checked by scram; everyone else trusted (loopback and socket only).
  std::ofstream(dir_ / "data" / "pg_hba.conf", std::ios::trunc)
      << "local all all trust\n"
      << "host all " << kPasswordRole << " 127.0.0.1/32 scram-sha-256\n"
      << "host all all 127.0.0.1/32 trust\n";
  if (!start()) {
    why_unavailable_ = "the server did not start: see " + (dir_ / "server.log").string();
    return;
  }
  psql("postgres", std::string("CREATE ROLE ") + kPasswordRole + " LOGIN SUPERUSER PASSWORD '" +
                       kPassword + "'");
}

PostgresServer::~PostgresServer() {
  if (!dir_.empty()) {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

bool PostgresServer::run(const std::string& command) const {
  const std::string line =
      user_.empty() ? command : "runuser -u " + user_ + " -- sh -c " + quoted(command);
  return std::system(line.c_str()) == 0;
}

bool PostgresServer::start() {
  return run(std::string(kBin) + "/pg_ctl -w -t 30 -D " + (dir_ / "data").string() + " -l " +
             (dir_ / "server.log").string() + " -o \"-p " + std::to_string(port_) + " -k " +
             dir_.string() + " -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null");
}

bool PostgresServer::stop() {
  return run(std::string(kBin) + "/pg_ctl -w -m immediate -D " + (dir_ / "data").string() +
             " stop >/dev/null 2>&1");
}

bool PostgresServer::psql(const std::string& database, const std::string& sql) const {
  // A client: runs as this user, over the socket in the folder.
  const std::string command = "psql -q -h " + dir_.string() + " -p " + std::to_string(port_) +
                              " -U postgres -d " + database + " -c \"" + sql + "\" >/dev/null";
  return std::system(command.c_str()) == 0;
}

std::string PostgresServer::create_database(const std::string& name) {
  psql("postgres", "CREATE DATABASE " + name);
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

std::string PostgresServer::password_url(const std::string& database) const {
  return std::string("postgresql://") + kPasswordRole + "@127.0.0.1:" + std::to_string(port_) +
         "/" + database;
}

}  // namespace jotgate::testing
