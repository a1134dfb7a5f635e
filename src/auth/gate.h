// Gate: the one decision the proxy asks for on every request of a virtual proxy: may it pass,
// as whom, with which headers; or what to answer instead. It combines the virtual proxy's
// authenticators (jwt, header, ticket, anonymous: one class each) with the session cookie and
// access allocations (auth/virtual_proxy_gate.h). No sockets, no Beast: the proxy hands it a
// RequestView, so it compiles fast and tests need no network.
//   auto gates = GateSet::create(config, clock);          // at start-up
//   auto decision = gates->gate(vp_index).check(view);    // per request
//   if (!decision.allowed) send(decision.refusal);        // status, headers, body
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/request_view.h"
#include "auth/token_check.h"
#include "base/answer.h"
#include "base/clock.h"
#include "base/identity.h"
#include "base/pending.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

class SessionAdmin;
class Revocations;
class AccessCache;

using jotgate::HeaderList;

// Reason::kKeysRefreshing: the token's kid is unknown and its identity provider's keys are
// being fetched again. The proxy waits for that fetch without holding its thread, then asks
// again with RequestView::may_refetch_keys() false (a kid still unknown is KEY_NOT_FOUND).
struct KeysWait {
  // Calls `done` once the fetch ended: at once, or later on the key source's thread.
  std::function<void(std::function<void()> done)> when_fetched;
  std::chrono::milliseconds limit{0};  // wait no longer than this
};

// A source of keys fetched from an identity provider, as the metrics show it.
struct KeySourceStatus {
  std::string name;  // the configured jwks_uri, or the issuer with discovery
  std::uint64_t fetches_ok = 0;
  std::uint64_t fetches_failed = 0;
  std::optional<UnixSeconds> fetched_at;     // of the keys in use; nullopt: never fetched
  std::size_t keys = 0;                      // usable now
  std::optional<UnixSeconds> next_fetch_at;  // the next scheduled fetch
  std::string last_error;                    // of the last fetch; "" when it succeeded
};

// Whether a decision looked a bearer token up in the token cache, and found it.
enum class TokenCacheLookup { kNone, kHit, kMiss };

// How a decision was reached, for the metrics: the proxy counts these (auth knows no metrics).
struct DecisionStats {
  bool allowed = false;
  Reason reason = Reason::kNoCredentials;  // when refused
  // When allowed, what authenticated the request: "session" (its cookie alone) or the method
  // that proved the credential it carried ("jwt", "header", "ticket", "anonymous").
  std::string_view signed_in_by;
  TokenCacheLookup token_cache = TokenCacheLookup::kNone;
  bool session_created = false;
  // Not for the metrics: what the connection waits for. store_wait: the decision is not made
  // yet (reason kStorePending), ask again once it finished. store_commit: the new session is
  // being written to the shared store; answer only once it finished ok (else 503
  // SESSION_STORE_UNAVAILABLE: a cookie for a session no other node knows is worse than none).
  std::shared_ptr<Pending> store_wait;
  std::shared_ptr<Pending> store_commit;
};

struct Decision {
  bool allowed = false;

  // When allowed:
  UserIdentity user;
  HeaderList upstream_headers;                 // identity header, forwarded claims and (with
                                               // forward_authorization) the verified Authorization
  std::optional<std::string> set_cookie;       // a Set-Cookie value to add to the response
  std::optional<std::string> upstream_cookie;  // Cookie header to send upstream (session cookie
                                               // removed); nullopt: send no Cookie header
  std::uint64_t session_handle = 0;            // for touch() on WebSocket traffic

  // When refused:
  Reason reason = Reason::kNoCredentials;
  Answer refusal;                       // answer_for(reason): status, WWW-Authenticate, body
  std::optional<KeysWait> keys_wait;    // reason kKeysRefreshing: wait, then decide again
  std::shared_ptr<Pending> store_wait;  // reason kStorePending: wait, then decide again
  std::shared_ptr<Pending>
      store_commit;  // when allowed: the new session's write (see DecisionStats)

  // For the metrics (see DecisionStats).
  std::string_view signed_in_by;
  TokenCacheLookup token_cache = TokenCacheLookup::kNone;
  bool session_created = false;
  DecisionStats stats() const {
    return {allowed, reason, signed_in_by, token_cache, session_created, store_wait, store_commit};
  }
};

// The live session a request's cookie names, as `.auth/me` shows it.
struct SessionInfo {
  UserIdentity user;
  HeaderList attributes;       // forwarded claims: header name, value
  UnixSeconds expires_at = 0;  // when it ends unless used again
  UnixSeconds expires_in = 0;  // seconds from now
};

class Gate {
 public:
  virtual ~Gate() = default;
  virtual Decision check(const RequestView& request) = 0;
  // Signs the client in with a token it presented another way than the Authorization header
  // (a form field), exactly as a request carrying it would be.
  virtual Decision sign_in(const RequestView& request, std::string_view token) = 0;
  // Trades a one-time ticket of the admin API for a session (the `jotgateTicket` parameter).
  virtual Decision redeem_ticket(const RequestView& request, std::string_view ticket) = 0;
  // The session the request's cookie names, without counting this as use (an embedding page
  // may poll it without keeping the session alive). nullopt: no live session.
  virtual std::optional<SessionInfo> session_info(const RequestView& request) = 0;
  // Ends the session the request's cookie names, if any (audited), and returns the Set-Cookie
  // value that removes the cookie from the browser.
  virtual std::string end_session(const RequestView& request) = 0;
  // With a shared session store: the read of the session the request's cookie names, when this
  // node does not know it (wait for it, then decide: the session is then known here for a short
  // while); nullptr when there is nothing to wait for.
  virtual std::shared_ptr<Pending> prefetch_session(const RequestView& /*request*/) {
    return nullptr;
  }
  // The token workbench: every check a request carrying this bearer token would meet, and the
  // answer it would get, changing nothing (no session, no seat taken, no token cached, no audit).
  virtual TokenCheck check_token(std::string_view token) = 0;
  // Keeps a session alive (WebSocket traffic after the upgrade).
  virtual void touch(std::uint64_t session_handle) = 0;
  // Header names the proxy removes from every client request before forwarding: identity
  // header, forward_claims and forward_attributes headers, the header method's headers and
  // Authorization (forwarded only as Decision::upstream_headers says).
  virtual const std::vector<std::string>& reserved_request_headers() const = 0;
  // For the metrics and readiness: live sessions, and token verification keys (0 without
  // auth.method jwt), and why there are none when a reload could not use the key file
  // ("<file>:<line>:<col>: <yaml.path>: <problem>") or the identity provider's keys could not
  // be fetched ("https://idp/keys: HTTP 500"); "" otherwise.
  virtual std::size_t live_sessions() const = 0;
  virtual std::size_t keys_loaded() const = 0;
  virtual std::string keys_problem() const = 0;
  // Keys fetched from identity providers (jwt.jwks_uri, discovery), for the metrics.
  virtual std::vector<KeySourceStatus> key_sources() const { return {}; }
};

// The gates of all virtual proxies, with the services they share (access allocations in SQLite
// under data_dir, the rejection audit) and the SessionAdmin over their sessions and tickets.
// Built from a config snapshot; keeps no pointer into it (auth/gate_set.cpp).
class GateSet {
 public:
  virtual ~GateSet() = default;
  // `previous`: the set in force when reloading. A virtual proxy whose prefix it has shares its
  // sessions and tickets (and its token cache, when keys and claim rules are unchanged); the
  // access allocations are shared when the access settings and data_dir are unchanged. Nothing
  // of `previous` changes until activate() is called on the new set.
  static Result<std::unique_ptr<GateSet>> create(const config::GatewayConfig& config,
                                                 const Clock& clock, GateSet* previous = nullptr);
  // Puts the new set's session settings (inactivity_timeout, max_lifetime) in force on the
  // stores it shares; called when it replaces the previous set.
  virtual void activate() = 0;
  // Index as in config.virtual_proxies.
  virtual Gate& gate(std::size_t virtual_proxy_index) = 0;
  // Tickets and sessions for the admin API.
  virtual SessionAdmin& admin() = 0;
  // Revoked tokens and users (shared with the set it replaced when data_dir is unchanged).
  virtual Revocations& revocations() = 0;
  // Access allocations (shared with the set it replaced when unchanged), and the admin API's
  // changes to them: in force at once; a revoke ends the user's sessions (audited
  // access_revoked). They wait on the database: never on a request thread.
  virtual AccessCache& access() = 0;
  virtual Result<bool> grant_access(const UserIdentity& user) = 0;
  virtual Result<bool> revoke_access(const UserIdentity& user) = 0;
  // Called about once a second by the server: expires sessions, picks up allocation changes
  // made by `jotgate access` (revocations end sessions) and revocations of tokens and users
  // (ending the sessions they name, audited), records last use, and every
  // session_store.save_interval starts saving the sessions on a thread of its own.
  virtual void maintain() = 0;
  // Why the access database (PostgreSQL) cannot be reached now, for readyz; "" when it can. The
  // allocations and revocations last read stay in force meanwhile.
  virtual std::string database_problem() const { return ""; }
  // Sessions across a restart, in <data_dir>/sessions.db. Once at start-up: reads the file into
  // the virtual proxies of the same prefix, dropping the expired; a missing or unreadable file
  // is logged and ignored.
  virtual void restore_sessions() = 0;
  // Writes the live sessions of every virtual proxy (after the drain of a graceful stop); false
  // when it failed (logged).
  virtual bool save_sessions() = 0;
  // For readiness: why the shared session store cannot be used now; "" when it can (or when
  // sessions live in memory).
  virtual std::string session_store_problem() const = 0;
};

}  // namespace jotgate::auth
