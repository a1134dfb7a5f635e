// AccessCache: the gateway's in-memory view of access allocations, so the request path never
// touches SQLite (except to hand out an auto-allocated seat, once per new user). maintain()
// records last use in batches and reloads when another process changed the database.
//   auto cache = AccessCache::create(config.access, config.data_dir, now);
//   if (!cache->admit(user, now)) deny();
//   cache->maintain(now, [&](const UserIdentity& revoked) { end_sessions(revoked); });
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "access/access_store.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

class AccessCache {
 public:
  static Result<std::unique_ptr<AccessCache>> create(const config::AccessSettings& settings,
                                                     const std::string& data_dir, UnixSeconds now);

  // Whether the user may pass (mode open, an allocation, or a seat taken now); records the use.
  bool admit(const UserIdentity& user, UnixSeconds now);
  // Flushes last-use times; when another connection committed, reloads allocations and calls
  // `on_revoked` for each user who lost theirs.
  void maintain(const std::function<void(const UserIdentity&)>& on_revoked);

 private:
  AccessCache(config::AccessSettings settings, std::unique_ptr<access::AccessStore> store)
      : settings_(std::move(settings)), store_(std::move(store)) {}
  Result<void> reload();

  const config::AccessSettings settings_;
  std::mutex store_mutex_;  // one SQLite connection, used from maintain() and seat hand-outs
  std::unique_ptr<access::AccessStore> store_;
  std::int64_t data_version_ = 0;

  std::shared_mutex allowed_mutex_;
  std::unordered_set<std::string> allowed_;  // "DIRECTORY\\id"
  std::int64_t seats_used_ = 0;

  std::mutex uses_mutex_;
  std::unordered_map<std::string, std::pair<UserIdentity, UnixSeconds>> pending_uses_;
};

}  // namespace jotgate::auth
