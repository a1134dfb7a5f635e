// RedisTicketStore: one virtual proxy's tickets in the Redis server a cluster shares, so a ticket
// the admin API issued on one node is redeemed on any node, once in the whole cluster (GETDEL is
// atomic). Issuing waits for Redis (the admin API's thread); taking never blocks: the first take
// starts the GETDEL and says kPending, the take after the wait finds its outcome here.
//   RedisTicketStore tickets(client, "jotgate:", "sales");
//   auto t = tickets.issue(grant, now);          // SET <p>ticket:<vp>:<sha256 hex> PX lifetime
//   auto r = tickets.take(*t, now);              // kPending, then kRedeemed (or kInvalid)
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/ticket_store.h"

namespace jotgate::redis {
class RedisClient;
}

namespace jotgate::auth {

class RedisTicketStore final : public TicketStore {
 public:
  RedisTicketStore(std::shared_ptr<redis::RedisClient> client, std::string key_prefix,
                   const std::string& virtual_proxy_prefix);

  Result<std::string> issue(TicketGrant grant, UnixSeconds now) override;
  Redemption take(std::string_view ticket, UnixSeconds now) override;
  // Forgets redemptions nobody came back for.
  void expire(UnixSeconds now) override;

 private:
  struct Taking;
  std::string key_of(std::string_view ticket) const;

  std::shared_ptr<redis::RedisClient> client_;
  const std::string key_prefix_;  // <p>ticket:<vp>:
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Taking>> taking_;  // by ticket_digest
};

}  // namespace jotgate::auth
