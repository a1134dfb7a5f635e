// VirtualProxyStore: the virtual proxies created through the admin API, each kept as its
// document (the JSON the API took, read by config::parse_virtual_proxy_document) under its
// prefix, in the configured database beside the access data: SQLite <data_dir>/jotgate.db or
// PostgreSQL, where a change on one node wakes the others (NOTIFY jotgate_virtual_proxies_changed).
//   auto store = VirtualProxyStore::open(config.database, config.data_dir);
//   (*store)->create_virtual_proxy({"sales", document, now, "token"});   // false: prefix taken
//   for (const auto& stored : *(*store)->list_virtual_proxies()) merge(stored.document);
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::access {

struct StoredVirtualProxy {
  std::string prefix;    // "" is the root
  std::string document;  // JSON
  UnixSeconds updated_at = 0;
  std::string updated_by;  // the administrator: a client certificate's CN, or "token"
  bool operator==(const StoredVirtualProxy&) const = default;
};

class VirtualProxyStore {
 public:
  // The configured database (see AccessStore::open).
  static Result<std::unique_ptr<VirtualProxyStore>> open(const config::DatabaseSettings& database,
                                                         const std::string& data_dir);
  virtual ~VirtualProxyStore() = default;

  // Every stored virtual proxy, by prefix.
  virtual Result<std::vector<StoredVirtualProxy>> list_virtual_proxies() = 0;
  // False when the prefix is stored already (nothing changes).
  virtual Result<bool> create_virtual_proxy(const StoredVirtualProxy& stored) = 0;
  // False when no virtual proxy has the prefix (nothing changes).
  virtual Result<bool> replace_virtual_proxy(const StoredVirtualProxy& stored) = 0;
  // False when no virtual proxy has the prefix.
  virtual Result<bool> remove_virtual_proxy(const std::string& prefix) = 0;
  // `wake` is called (from a thread of the store) when another connection changed the stored
  // virtual proxies. SQLite: never (only the gateway that owns the file changes them).
  virtual void on_virtual_proxies_change(std::function<void()> wake) { (void)wake; }

 protected:
  VirtualProxyStore() = default;
  VirtualProxyStore(const VirtualProxyStore&) = delete;
  VirtualProxyStore& operator=(const VirtualProxyStore&) = delete;
};

}  // namespace jotgate::access
