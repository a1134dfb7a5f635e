// SessionBackend: where the virtual proxies' sessions and tickets live, as `session_store`
// says: in this process's memory (each virtual proxy its own stores), or in Redis (one client
// for every virtual proxy; the keys say which), shared by every node of a cluster. A reload with
// the same session_store keeps the backend, so sessions, tickets and the Redis connections stay.
//   auto backend = SessionBackend::create(config.session_store);
//   auto sessions = (*backend)->sessions("sales", limits);   // a SessionStore
//   if (auto why = (*backend)->problem(); !why.empty()) not_ready(why);
#pragma once

#include <memory>
#include <string>

#include "auth/ticket_store.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "session/session_store.h"

namespace jotgate::auth {

class SessionBackend {
 public:
  // Redis: connects in the background (a server that is down is not an error here).
  static Result<std::shared_ptr<SessionBackend>> create(
      const config::SessionStoreSettings& settings);
  virtual ~SessionBackend() = default;

  virtual std::shared_ptr<session::SessionStore> sessions(const std::string& prefix,
                                                          session::SessionLimits limits) = 0;
  virtual std::shared_ptr<TicketStore> tickets(const std::string& prefix) = 0;
  const config::SessionStoreSettings& settings() const { return settings_; }
  // For readiness: why the store cannot be used now ("session store redis://r:6379/0:
  // connection refused"); "" when it can.
  virtual std::string problem() const { return ""; }

 protected:
  explicit SessionBackend(config::SessionStoreSettings settings) : settings_(std::move(settings)) {}

 private:
  const config::SessionStoreSettings settings_;
};

}  // namespace jotgate::auth
