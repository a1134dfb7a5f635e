// VirtualProxyGate: the Gate of one virtual proxy. Its authenticators say who the client is
// (JwtAuthenticator, HeaderAuthenticator, TicketAuthenticator, AnonymousAuthenticator, as
// auth.method and auth.anonymous choose); the gate keeps the rest: the session store and its
// cookie, and access allocations. Built by GateSet::create, which also gives the SessionAdmin
// its sessions and tickets. Copies what it needs from the configuration: it keeps no pointer
// into it.
//   auto gate = VirtualProxyGate::create(config.virtual_proxies[0], 0, *backend, access,
//                                        rejections, clock);
//   Decision d = (*gate)->check(request);
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/access_cache.h"
#include "auth/anonymous_authenticator.h"
#include "auth/failure_limiter.h"
#include "auth/gate.h"
#include "auth/gate_audit.h"
#include "auth/header_authenticator.h"
#include "auth/jwt_authenticator.h"
#include "auth/revocations.h"
#include "auth/session_backend.h"
#include "auth/ticket_authenticator.h"
#include "auth/ticket_store.h"
#include "session/cookie.h"
#include "session/session_store.h"

namespace jotgate::auth {

// Attributes of the admin API go upstream by the same names as forwarded claims: attribute or
// claim name -> header (auth.forward_attributes over jwt.forward_claims).
std::map<std::string, std::string> attribute_headers(const config::AuthSettings& auth);

class VirtualProxyGate final : public Gate {
 public:
  // `index` names the virtual proxy in errors ("virtual_proxies[1].auth.jwt.key: ...").
  // `previous`: the gate of the same prefix in the configuration being replaced (a reload), whose
  // sessions and tickets this one shares, and whose token cache it keeps when the jwt settings
  // and keys are the same. The new session limits apply from apply_session_limits() on.
  // `revocations` (may be null): tokens it refuses get TOKEN_REVOKED.
  static Result<std::unique_ptr<VirtualProxyGate>> create(
      const config::VirtualProxy& vp, std::size_t index, SessionBackend& backend,
      AccessCache& access, RejectionAudit& rejections, const Clock& clock,
      const VirtualProxyGate* previous = nullptr, const Revocations* revocations = nullptr);

  Decision check(const RequestView& request) override;
  Decision sign_in(const RequestView& request, std::string_view token) override;
  Decision redeem_ticket(const RequestView& request, std::string_view ticket) override;
  std::optional<SessionInfo> session_info(const RequestView& request) override;
  std::string end_session(const RequestView& request) override;
  TokenCheck check_token(std::string_view token) override;
  void touch(std::uint64_t session_handle) override;
  std::shared_ptr<Pending> prefetch_session(const RequestView& request) override;
  const std::vector<std::string>& reserved_request_headers() const override { return reserved_; }
  std::size_t live_sessions() const override { return sessions_->size(); }
  std::size_t keys_loaded() const override { return jwt_ ? jwt_->keys_loaded() : 0; }
  std::string keys_problem() const override { return jwt_ ? jwt_->keys_problem() : ""; }
  std::vector<KeySourceStatus> key_sources() const override;

  // For the GateSet and the SessionAdmin.
  const std::string& prefix() const { return prefix_; }
  const std::string& cookie_name() const { return cookie_.name; }
  const GateAudit& audit() const { return audit_; }
  session::SessionStore& sessions() { return *sessions_; }
  const session::SessionStore& sessions() const { return *sessions_; }
  TicketStore& tickets() { return *tickets_; }
  // Puts this gate's session limits in force on the (possibly shared) session store.
  void apply_session_limits() { sessions_->set_limits(session_limits_); }
  // Ends expired sessions (audited) and drops expired tickets.
  void expire(UnixSeconds now);
  // Ends the sessions a revocation names: those signed in by cached tokens with its jti, or
  // the user's sessions created up to its time. Returns how many.
  std::size_t end_revoked_sessions(const access::Revocation& revocation);

 private:
  VirtualProxyGate(const config::VirtualProxy& vp, std::unique_ptr<JwtAuthenticator> jwt,
                   SessionBackend& backend, AccessCache& access, RejectionAudit& rejections,
                   const Clock& clock, const VirtualProxyGate* previous,
                   const Revocations* revocations);

  // What every sign-in path starts from: the time, the answer format, the client's session.
  struct Attempt {
    UnixSeconds now = 0;
    AnswerContext context;
    std::vector<std::string_view> cookie_headers;
    std::optional<session::SessionView> current;
    // For the metrics: what proves the request ("session": its cookie), the token cache.
    std::string_view signed_in_by = "session";
    TokenCacheLookup token_cache = TokenCacheLookup::kNone;
    RequestIds ids;  // of the request: its audit lines carry them
    // The shared session store: the session is being read (wait, then decide again), or the
    // store cannot be reached (503).
    std::shared_ptr<Pending> store_wait;
    bool store_unavailable = false;
    bool may_wait = false;  // RequestView::may_wait_for_store
  };
  // The answer while the shared store has not said what the cookie names; nullopt: go on.
  std::optional<Decision> store_not_ready(const Attempt& attempt) const;
  Attempt begin(const RequestView& request);
  AnswerContext answer_context(const RequestView& request) const;

  Decision sign_in_with_token(std::string_view token, const RequestView& request, Attempt& attempt);
  Decision sign_in_proven(Result<Credential> proven, std::string_view method,
                          std::string_view rejected_event, const RequestView& request,
                          Attempt& attempt);
  Decision sign_in_anonymous(const RequestView& request, Attempt& attempt);
  enum class Reuse { kSameUser, kSameUserAndAttributes };
  std::optional<Decision> keep_or_end_session(const Credential& credential, Reuse reuse,
                                              Attempt& attempt);
  Decision start_session(Credential credential, std::string_view method, const RequestView& request,
                         const Attempt& attempt, const VerifiedBearer* bearer = nullptr);

  enum class Access { kAllowed, kDenied, kPending };
  Access access_of(const UserIdentity& user, Attempt& attempt);
  // `attempt`: where a shared store's pending read or unavailability is noted (null: treated
  // as no session).
  std::optional<session::SessionView> find_session(const std::vector<std::string_view>& headers,
                                                   UnixSeconds now, session::Refresh refresh,
                                                   const RequestIds& ids,
                                                   Attempt* attempt = nullptr,
                                                   bool may_wait = false);
  bool cookie_secure(const RequestView& request) const;
  std::string set_cookie(const RequestView& request, const std::string& value) const;
  Decision allow(const session::SessionView& view, std::optional<std::string> cookie,
                 const Attempt& attempt) const;
  Decision reject(std::string_view event, Reason reason, const RequestView& request,
                  const Attempt& attempt) const;
  static std::shared_ptr<FailureLimiter> failure_limiter(const config::FailureLimit& limit,
                                                         const VirtualProxyGate* previous);
  Decision deny(const UserIdentity& user, const Attempt& attempt) const;

  const std::string prefix_;
  const std::string identity_header_;
  const bool forward_authorization_;  // the verified bearer's Authorization goes upstream
  const config::SecureMode secure_;
  session::CookieSpec cookie_;
  std::vector<std::string> reserved_;
  // Who the client is: one authenticator per method (jwt_, header_: null unless auth.method).
  std::unique_ptr<JwtAuthenticator> jwt_;
  std::optional<HeaderAuthenticator> header_;
  const SessionBackend* const backend_;   // where sessions_ and tickets_ come from
  std::shared_ptr<TicketStore> tickets_;  // shared with the gate it replaced on a reload
  TicketAuthenticator ticket_authenticator_{*tickets_};
  const AnonymousAuthenticator anonymous_;
  // What the gate keeps itself.
  const session::SessionLimits session_limits_;
  std::shared_ptr<session::SessionStore> sessions_;  // shared like tickets_
  AccessCache& access_;
  // Refused sign-ins per client address (auth.failure_limit); kept across a reload that leaves
  // the limit as it was.
  std::shared_ptr<FailureLimiter> failures_;
  const Revocations* const revocations_;  // null: none (tests)
  const GateAudit audit_;
  const Clock& clock_;
};

}  // namespace jotgate::auth
