#include "auth/session_backend.h"

#include "auth/memory_ticket_store.h"
#include "auth/redis_ticket_store.h"
#include "redis/redis_client.h"
#include "session/memory_session_store.h"
#include "session/redis_session_store.h"

namespace jotgate::auth {

namespace {

class MemoryBackend final : public SessionBackend {
 public:
  explicit MemoryBackend(config::SessionStoreSettings settings)
      : SessionBackend(std::move(settings)) {}
  std::shared_ptr<session::SessionStore> sessions(const std::string& /*prefix*/,
                                                  session::SessionLimits limits) override {
    return std::make_shared<session::MemorySessionStore>(limits);
  }
  std::shared_ptr<TicketStore> tickets(const std::string& /*prefix*/) override {
    return std::make_shared<MemoryTicketStore>();
  }
};

class RedisBackend final : public SessionBackend {
 public:
  RedisBackend(config::SessionStoreSettings settings, std::shared_ptr<redis::RedisClient> client)
      : SessionBackend(std::move(settings)), client_(std::move(client)) {}
  std::shared_ptr<session::SessionStore> sessions(const std::string& prefix,
                                                  session::SessionLimits limits) override {
    return std::make_shared<session::RedisSessionStore>(client_, settings().redis.key_prefix,
                                                        prefix, limits);
  }
  std::shared_ptr<TicketStore> tickets(const std::string& prefix) override {
    return std::make_shared<RedisTicketStore>(client_, settings().redis.key_prefix, prefix);
  }
  std::string problem() const override {
    if (client_->connected()) return "";
    const std::string why = client_->last_error();
    return "session store " + client_->address() + ": " + (why.empty() ? "not connected" : why);
  }

 private:
  std::shared_ptr<redis::RedisClient> client_;
};

}  // namespace

Result<std::shared_ptr<SessionBackend>> SessionBackend::create(
    const config::SessionStoreSettings& settings) {
  if (settings.type == config::SessionStoreType::kMemory) {
    return std::shared_ptr<SessionBackend>(std::make_shared<MemoryBackend>(settings));
  }
  auto client = redis::RedisClient::create({.url = settings.redis.url,
                                            .password = settings.redis.password,
                                            .ca_file = settings.redis.ca});
  if (!client) return client.error();
  return std::shared_ptr<SessionBackend>(std::make_shared<RedisBackend>(
      settings, std::shared_ptr<redis::RedisClient>(std::move(*client))));
}

}  // namespace jotgate::auth
