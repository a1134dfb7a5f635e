// SqliteAccessStore: the AccessStore and the VirtualProxyStore in SQLite at <data_dir>/jotgate.db
// (WAL mode), the embedded default. Another process (`jotgate access`) writing the file is seen
// through data_version.
//   auto store = SqliteAccessStore::open(data_dir);
//   store->grant({"ACME", "alice"}, now);
//   if (*store->data_version() != seen) reload();
#pragma once

#include <memory>
#include <string>

#include "access/access_store.h"
#include "access/virtual_proxy_store.h"

struct sqlite3;

namespace jotgate::access {

class SqliteAccessStore final : public AccessStore, public VirtualProxyStore {
 public:
  // Opens (creating the folder, file and tables when missing) <data_dir>/jotgate.db.
  static Result<std::unique_ptr<SqliteAccessStore>> open(const std::string& data_dir);
  ~SqliteAccessStore() override;

  Result<bool> grant(const UserIdentity& user, UnixSeconds now) override;
  Result<bool> revoke(const UserIdentity& user) override;
  Result<std::vector<Allocation>> list() override;
  Result<std::int64_t> seats_used() override;
  Result<bool> take_seat(const UserIdentity& user, std::int64_t seats, UnixSeconds now) override;
  Result<void> record_last_use(
      const std::vector<std::pair<UserIdentity, UnixSeconds>>& uses) override;
  Result<Revocation> add_revocation(Revocation revocation) override;
  Result<std::vector<Revocation>> revocations() override;
  Result<bool> lift_revocation(std::int64_t id) override;
  Result<std::int64_t> prune_revocations(UnixSeconds now) override;
  Result<std::int64_t> data_version() override;

  Result<std::vector<StoredVirtualProxy>> list_virtual_proxies() override;
  Result<bool> create_virtual_proxy(const StoredVirtualProxy& stored) override;
  Result<bool> replace_virtual_proxy(const StoredVirtualProxy& stored) override;
  Result<bool> remove_virtual_proxy(const std::string& prefix) override;

  const std::string& path() const { return path_; }

 private:
  SqliteAccessStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<void> exec(const char* sql);
  Error failure(const std::string& what) const;
  sqlite3* db_;
  std::string path_;
};

}  // namespace jotgate::access
