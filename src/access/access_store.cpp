#include "access/access_store.h"

#include "access/postgres_access_store.h"
#include "access/sqlite_access_store.h"

namespace jotgate::access {

Result<std::unique_ptr<AccessStore>> AccessStore::open(const config::DatabaseSettings& database,
                                                       const std::string& data_dir) {
  if (database.type == config::DatabaseType::kPostgresql) {
    auto store = PostgresAccessStore::open({database.url, database.password});
    if (!store) return store.error();
    return std::unique_ptr<AccessStore>(std::move(*store));
  }
  return open(data_dir);
}

Result<std::unique_ptr<VirtualProxyStore>> VirtualProxyStore::open(
    const config::DatabaseSettings& database, const std::string& data_dir) {
  if (database.type == config::DatabaseType::kPostgresql) {
    auto store = PostgresAccessStore::open({database.url, database.password});
    if (!store) return store.error();
    return std::unique_ptr<VirtualProxyStore>(std::move(*store));
  }
  auto store = SqliteAccessStore::open(data_dir);
  if (!store) return store.error();
  return std::unique_ptr<VirtualProxyStore>(std::move(*store));
}

Result<std::unique_ptr<AccessStore>> AccessStore::open(const std::string& data_dir) {
  auto store = SqliteAccessStore::open(data_dir);
  if (!store) return store.error();
  return std::unique_ptr<AccessStore>(std::move(*store));
}

}  // namespace jotgate::access
