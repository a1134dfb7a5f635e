#include "auth/virtual_proxy_gate.h"

#include <utility>

#include "auth/credentials.h"

namespace jotgate::auth {

namespace {

Decision refuse(Reason reason, const AnswerContext& context) {
  Decision d;
  d.reason = reason;
  d.refusal = answer_for(make_error(reason), context);
  return d;
}

session::CookieSameSite cookie_same_site(config::SameSite same_site) {
  switch (same_site) {
    case config::SameSite::kStrict: return session::CookieSameSite::kStrict;
    case config::SameSite::kNone: return session::CookieSameSite::kNone;
    case config::SameSite::kLax: break;
  }
  return session::CookieSameSite::kLax;
}

}  // namespace

std::map<std::string, std::string> attribute_headers(const config::AuthSettings& auth) {
  std::map<std::string, std::string> headers = auth.jwt.all_forward_claims();
  for (const auto& [name, header] : auth.forward_attributes) headers[name] = header;
  return headers;
}

Result<std::unique_ptr<VirtualProxyGate>> VirtualProxyGate::create(
    const config::VirtualProxy& vp, std::size_t index, SessionBackend& backend, AccessCache& access,
    RejectionAudit& rejections, const Clock& clock, const VirtualProxyGate* previous,
    const Revocations* revocations) {
  std::unique_ptr<JwtAuthenticator> jwt;
  if (vp.auth.method == config::AuthMethod::kJwt) {
    auto created =
        JwtAuthenticator::create(vp.auth.jwt, "virtual_proxies[" + std::to_string(index) + "].auth",
                                 previous != nullptr ? previous->jwt_.get() : nullptr);
    if (!created) return created.error();
    jwt = std::move(*created);
    if (previous != nullptr && previous->jwt_) jwt->keep_cache_of(*previous->jwt_);
  }
  return std::unique_ptr<VirtualProxyGate>(new VirtualProxyGate(
      vp, std::move(jwt), backend, access, rejections, clock,
      // Sessions and tickets carry over only within the same store.
      previous != nullptr && previous->backend_ == &backend ? previous : nullptr, revocations));
}

VirtualProxyGate::VirtualProxyGate(const config::VirtualProxy& vp,
                                   std::unique_ptr<JwtAuthenticator> jwt, SessionBackend& backend,
                                   AccessCache& access, RejectionAudit& rejections,
                                   const Clock& clock, const VirtualProxyGate* previous,
                                   const Revocations* revocations)
    : prefix_(vp.prefix),
      identity_header_(vp.identity_header),
      forward_authorization_(jwt && vp.auth.jwt.forward_authorization),
      secure_(vp.session.secure),
      cookie_{.name = vp.session.cookie_name,
              .path = "/" + vp.prefix,
              .same_site = cookie_same_site(vp.session.same_site),
              .domain = vp.session.domain,
              .partitioned = vp.session.partitioned,
              .max_age_seconds = vp.session.max_lifetime_seconds},
      jwt_(std::move(jwt)),
      backend_(&backend),
      tickets_(previous != nullptr ? previous->tickets_ : backend.tickets(vp.prefix)),
      anonymous_(vp.auth.anonymous),
      session_limits_{vp.session.inactivity_timeout_seconds, vp.session.max_lifetime_seconds,
                      vp.session.max_per_user},
      sessions_(previous != nullptr ? previous->sessions_
                                    : backend.sessions(vp.prefix, session_limits_)),
      access_(access),
      failures_(failure_limiter(vp.auth.failure_limit, previous)),
      revocations_(revocations),
      audit_(vp.prefix, rejections),
      clock_(clock) {
  if (vp.auth.method == config::AuthMethod::kHeader) header_.emplace(vp.auth.header);
  reserved_.push_back(identity_header_);
  for (const auto& [name, header] : attribute_headers(vp.auth)) reserved_.push_back(header);
  // Two providers may forward one claim under different headers: each is the gate's.
  for (const config::JwtProvider& provider : vp.auth.jwt.providers) {
    for (const auto& [claim, header] : provider.forward_claims) reserved_.push_back(header);
  }
  // Always: with forward_authorization, the Decision carries the one that was verified.
  reserved_.push_back("Authorization");
  if (header_) {
    for (std::string& name : header_->headers()) reserved_.push_back(std::move(name));
  }
}

Decision VirtualProxyGate::check(const RequestView& request) {
  // Not a list field (RFC 9110 section 11.6.2): never guess which of several was meant.
  const auto authorizations = request.headers("Authorization");
  if (authorizations.size() > 1) {
    return refuse(Reason::kAuthorizationRepeated, answer_context(request));
  }
  Attempt attempt = begin(request);
  if (auto waiting = store_not_ready(attempt)) return std::move(*waiting);
  if (anonymous_.always()) {
    if (attempt.current && AnonymousAuthenticator::is_anonymous(attempt.current->user)) {
      return allow(*attempt.current, std::nullopt, attempt);
    }
    return sign_in_anonymous(request, attempt);
  }
  const std::optional<std::string_view> authorization =
      authorizations.empty() ? std::nullopt : std::optional(authorizations.front());
  if (auto token = bearer_token(authorization)) {
    Decision decision = sign_in_with_token(*token, request, attempt);
    // Only the credential just verified goes upstream; a cookie's request sends none.
    if (decision.allowed && forward_authorization_) {
      decision.upstream_headers.emplace_back("Authorization", std::string(*authorization));
    }
    return decision;
  }
  if (header_) {
    auto proven = header_->authenticate(request);
    if (proven || proven.error().reason != Reason::kNoCredentials) {
      return sign_in_proven(std::move(proven), HeaderAuthenticator::kMethod,
                            HeaderAuthenticator::kRejectedEvent, request, attempt);
    }
  }
  if (attempt.current) {
    const Access access = access_of(attempt.current->user, attempt);
    if (access == Access::kPending) return std::move(*store_not_ready(attempt));
    if (access == Access::kDenied) {
      sessions_->remove(attempt.current->handle);
      return deny(attempt.current->user, attempt);
    }
    return allow(*attempt.current, std::nullopt, attempt);
  }
  return sign_in_anonymous(request, attempt);  // NO_CREDENTIALS unless auth.anonymous allows
}

Decision VirtualProxyGate::sign_in(const RequestView& request, std::string_view token) {
  Attempt attempt = begin(request);
  if (auto waiting = store_not_ready(attempt)) return std::move(*waiting);
  return sign_in_with_token(token, request, attempt);
}

Decision VirtualProxyGate::redeem_ticket(const RequestView& request, std::string_view ticket) {
  Attempt attempt = begin(request);
  if (auto waiting = store_not_ready(attempt)) return std::move(*waiting);
  std::shared_ptr<Pending> pending;
  auto proven = ticket_authenticator_.authenticate(
      ticket, attempt.now, request.may_wait_for_store() ? &pending : nullptr);
  if (pending) {
    attempt.store_wait = std::move(pending);
    return std::move(*store_not_ready(attempt));
  }
  return sign_in_proven(std::move(proven), TicketAuthenticator::kMethod,
                        TicketAuthenticator::kRejectedEvent, request, attempt);
}

std::optional<Decision> VirtualProxyGate::store_not_ready(const Attempt& attempt) const {
  if (attempt.store_wait) {
    // Not an answer: the proxy waits for the store and asks again (neither audited nor counted).
    Decision d = refuse(Reason::kStorePending, attempt.context);
    d.store_wait = attempt.store_wait;
    return d;
  }
  if (attempt.store_unavailable) return refuse(Reason::kSessionStoreUnavailable, attempt.context);
  return std::nullopt;
}

std::shared_ptr<Pending> VirtualProxyGate::prefetch_session(const RequestView& request) {
  if (!sessions_->shared()) return nullptr;
  for (std::string_view value :
       session::find_cookie_values(request.headers("Cookie"), cookie_.name)) {
    auto found = sessions_->lookup(value, clock_.now_seconds(), session::Refresh::kNo);
    if (found.status == session::LookupStatus::kPending) return std::move(found.pending);
  }
  return nullptr;
}

std::optional<SessionInfo> VirtualProxyGate::session_info(const RequestView& request) {
  const UnixSeconds now = clock_.now_seconds();
  auto current = find_session(request.headers("Cookie"), now, session::Refresh::kNo, request.ids());
  if (!current) return std::nullopt;
  return SessionInfo{current->user, current->attributes, current->expires_at,
                     current->expires_at - now};
}

std::string VirtualProxyGate::end_session(const RequestView& request) {
  const UnixSeconds now = clock_.now_seconds();
  if (auto current =
          find_session(request.headers("Cookie"), now, session::Refresh::kNo, request.ids())) {
    sessions_->remove(current->handle);
    audit_.user_event("logout", current->user, request.ids());
  }
  session::CookieSpec spec = cookie_;
  spec.secure = cookie_secure(request);
  return session::build_expired_cookie(spec);
}

std::vector<KeySourceStatus> VirtualProxyGate::key_sources() const {
  return jwt_ ? jwt_->key_sources() : std::vector<KeySourceStatus>{};
}

void VirtualProxyGate::touch(std::uint64_t session_handle) {
  if (session_handle != 0) sessions_->touch(session_handle, clock_.now_seconds());
}

void VirtualProxyGate::expire(UnixSeconds now) {
  sessions_->expire(now,
                    [&](const UserIdentity& user) { audit_.user_event("session_expired", user); });
  tickets_->expire(now);
}

std::size_t VirtualProxyGate::end_revoked_sessions(const access::Revocation& revocation) {
  if (revocation.kind == access::Revocation::Kind::kUser) {
    return sessions_->remove_user(revocation.user, revocation.revoked_at);
  }
  if (!jwt_) return 0;
  std::size_t ended = 0;
  for (std::uint64_t handle : jwt_->sessions_of_token_id(revocation.jti)) {
    ended += sessions_->remove(handle) ? 1 : 0;
  }
  return ended;
}

VirtualProxyGate::Attempt VirtualProxyGate::begin(const RequestView& request) {
  Attempt attempt;
  attempt.now = clock_.now_seconds();
  attempt.context = answer_context(request);
  attempt.cookie_headers = request.headers("Cookie");
  attempt.ids = request.ids();
  attempt.may_wait = request.may_wait_for_store();
  attempt.current = find_session(attempt.cookie_headers, attempt.now, session::Refresh::kYes,
                                 attempt.ids, &attempt, request.may_wait_for_store());
  return attempt;
}

AnswerContext VirtualProxyGate::answer_context(const RequestView& request) const {
  return AnswerContext{prefix_, wants_json(request.header("Accept")), nullptr};
}

// A token presented (header or form): proven by the JWT authenticator, then the session.
Decision VirtualProxyGate::sign_in_with_token(std::string_view token, const RequestView& request,
                                              Attempt& attempt) {
  if (!jwt_) {
    return reject(JwtAuthenticator::kRejectedEvent, Reason::kCredentialsNotAccepted, request,
                  attempt);
  }
  attempt.signed_in_by = JwtAuthenticator::kMethod;
  KeysWait wait;
  auto bearer = jwt_->authenticate(token, attempt.now, &attempt.token_cache,
                                   request.may_refetch_keys() ? &wait : nullptr);
  if (!bearer && bearer.error().reason == Reason::kKeysRefreshing) {
    // Not an answer: the proxy waits for the keys and asks again (neither audited nor counted).
    Decision d = refuse(Reason::kKeysRefreshing, attempt.context);
    d.keys_wait = std::move(wait);
    return d;
  }
  if (!bearer) {
    return reject(JwtAuthenticator::kRejectedEvent, bearer.error().reason, request, attempt);
  }
  // Cached or not: a revocation applies to tokens verified before it too.
  if (revocations_ != nullptr && revocations_->refuses(bearer->token_id, bearer->issued_at,
                                                       bearer->credential.user, attempt.now)) {
    return reject(JwtAuthenticator::kRejectedEvent, Reason::kTokenRevoked, request, attempt);
  }
  // A token of the session's own user keeps that session, whatever claims it carries.
  if (auto decided = keep_or_end_session(bearer->credential, Reuse::kSameUser, attempt)) {
    return std::move(*decided);
  }
  // The same token again without its cookie (API clients, or a cookie the client lost):
  // the session it signed in, and its cookie once more.
  if (bearer->session_handle != 0 && sessions_->touch(bearer->session_handle, attempt.now)) {
    session::SessionView view{bearer->session_handle, bearer->credential.user,
                              bearer->credential.attributes};
    return allow(view, set_cookie(request, bearer->session_cookie), attempt);
  }
  Credential credential = bearer->credential;
  return start_session(std::move(credential), JwtAuthenticator::kMethod, request, attempt,
                       &*bearer);
}

// A user vouched for (trusted header, ticket): the session is kept only for the same user with
// the same attributes.
Decision VirtualProxyGate::sign_in_proven(Result<Credential> proven, std::string_view method,
                                          std::string_view rejected_event,
                                          const RequestView& request, Attempt& attempt) {
  attempt.signed_in_by = method;
  if (!proven) return reject(rejected_event, proven.error().reason, request, attempt);
  if (auto decided = keep_or_end_session(*proven, Reuse::kSameUserAndAttributes, attempt)) {
    return std::move(*decided);
  }
  return start_session(std::move(*proven), method, request, attempt);
}

Decision VirtualProxyGate::sign_in_anonymous(const RequestView& request, Attempt& attempt) {
  auto anonymous = anonymous_.authenticate();
  if (!anonymous) return refuse(anonymous.error().reason, attempt.context);
  if (attempt.current) sessions_->remove(attempt.current->handle);
  attempt.signed_in_by = AnonymousAuthenticator::kMethod;
  return start_session(std::move(*anonymous), AnonymousAuthenticator::kMethod, request, attempt);
}

// The allocation, then the client's current session: kept (the decision) when `reuse` allows,
// else ended; nullopt: go on to a new session. Never reuses a session of someone else.
std::optional<Decision> VirtualProxyGate::keep_or_end_session(const Credential& credential,
                                                              Reuse reuse, Attempt& attempt) {
  const std::optional<session::SessionView>& current = attempt.current;
  const Access access = access_of(credential.user, attempt);
  if (access == Access::kPending) return store_not_ready(attempt);
  if (access == Access::kDenied) {
    if (current) sessions_->remove(current->handle);
    return deny(credential.user, attempt);
  }
  if (current && current->user == credential.user &&
      (reuse == Reuse::kSameUser || current->attributes == credential.attributes)) {
    return allow(*current, std::nullopt, attempt);
  }
  if (current) sessions_->remove(current->handle);
  return std::nullopt;
}

Decision VirtualProxyGate::start_session(Credential credential, std::string_view method,
                                         const RequestView& request, const Attempt& attempt,
                                         const VerifiedBearer* bearer) {
  auto created = sessions_->create(credential.user, credential.attributes, attempt.now);
  if (created.unavailable) return refuse(Reason::kSessionStoreUnavailable, attempt.context);
  if (bearer) jwt_->remember_session(*bearer, created.handle, created.cookie_value);
  audit_.signed_in(credential.user, method, attempt.ids);
  audit_.evicted(credential.user, created.evicted, attempt.ids);
  session::SessionView view{created.handle, std::move(credential.user),
                            std::move(credential.attributes)};
  Decision d = allow(view, set_cookie(request, created.cookie_value), attempt);
  d.session_created = true;
  d.store_commit = std::move(created.commit);
  return d;
}

// Anonymous users need no allocation; everyone else does. kPending: the user's seat is being
// asked for in a shared database, and the request may wait for the answer (attempt.store_wait;
// it then asks again, and the seat is known here); a request that may not wait is refused.
VirtualProxyGate::Access VirtualProxyGate::access_of(const UserIdentity& user, Attempt& attempt) {
  if (AnonymousAuthenticator::is_anonymous(user)) {
    return anonymous_.admits_anonymous() ? Access::kAllowed : Access::kDenied;
  }
  switch (access_.check(user, attempt.now)) {
    case AccessCache::Admit::kAllowed: return Access::kAllowed;
    case AccessCache::Admit::kDenied: return Access::kDenied;
    case AccessCache::Admit::kPending: break;
  }
  if (!attempt.may_wait) return Access::kDenied;
  auto pending = std::make_shared<Pending>();
  access_.seat_wait(user)([pending] { pending->finish(true); });
  attempt.store_wait = std::move(pending);
  return Access::kPending;
}

// The session the cookie names, if any (a client-chosen value only ever finds an existing
// session: ids are never adopted).
std::optional<session::SessionView> VirtualProxyGate::find_session(
    const std::vector<std::string_view>& headers, UnixSeconds now, session::Refresh refresh,
    const RequestIds& ids, Attempt* attempt, bool may_wait) {
  for (std::string_view value : session::find_cookie_values(headers, cookie_.name)) {
    auto found = sessions_->lookup(value, now, refresh);
    switch (found.status) {
      case session::LookupStatus::kFound: return std::move(found.session);
      case session::LookupStatus::kExpired:
        audit_.user_event("session_expired", found.session.user, ids);
        break;
      case session::LookupStatus::kUnknown: break;
      case session::LookupStatus::kPending:
        if (attempt != nullptr && may_wait) {
          attempt->store_wait = std::move(found.pending);
          return std::nullopt;
        }
        [[fallthrough]];
      case session::LookupStatus::kUnavailable:
        if (attempt != nullptr) attempt->store_unavailable = true;
        return std::nullopt;
    }
  }
  return std::nullopt;
}

bool VirtualProxyGate::cookie_secure(const RequestView& request) const {
  return secure_ == config::SecureMode::kAlways ||
         (secure_ == config::SecureMode::kAuto && request.is_tls());
}

std::string VirtualProxyGate::set_cookie(const RequestView& request,
                                         const std::string& value) const {
  session::CookieSpec spec = cookie_;
  spec.secure = cookie_secure(request);
  return session::build_set_cookie(spec, value);
}

Decision VirtualProxyGate::allow(const session::SessionView& view,
                                 std::optional<std::string> cookie, const Attempt& attempt) const {
  Decision d;
  d.allowed = true;
  d.user = view.user;
  d.session_handle = view.handle;
  d.set_cookie = std::move(cookie);
  d.upstream_headers.emplace_back(
      identity_header_, "UserDirectory=" + view.user.directory + "; UserId=" + view.user.id);
  for (const auto& header : view.attributes) d.upstream_headers.push_back(header);
  d.upstream_cookie = session::strip_cookie(attempt.cookie_headers, cookie_.name);
  d.signed_in_by = attempt.signed_in_by;
  d.token_cache = attempt.token_cache;
  return d;
}

// A refused credential: audited (repeats counted), then answered.
Decision VirtualProxyGate::reject(std::string_view event, Reason reason, const RequestView& request,
                                  const Attempt& attempt) const {
  audit_.refused(event, reason, request.client_ip(), attempt.now, attempt.ids);
  // A credential that proved nothing counts toward auth.failure_limit; a gateway that cannot
  // check it (503 KEYS_UNAVAILABLE) is not the client's failure.
  if (http_status(reason) == 401) {
    if (const std::int64_t wait = failures_->count_failure(request.client_ip(), attempt.now)) {
      AnswerContext context = attempt.context;
      context.retry_after_seconds = wait;
      Decision d = refuse(Reason::kTooManyFailures, context);
      d.token_cache = attempt.token_cache;
      return d;
    }
  }
  Decision d = refuse(reason, attempt.context);
  d.token_cache = attempt.token_cache;
  return d;
}

std::shared_ptr<FailureLimiter> VirtualProxyGate::failure_limiter(
    const config::FailureLimit& limit, const VirtualProxyGate* previous) {
  if (previous != nullptr && previous->failures_->limit() == limit) return previous->failures_;
  return std::make_shared<FailureLimiter>(limit);
}

Decision VirtualProxyGate::deny(const UserIdentity& user, const Attempt& attempt) const {
  audit_.user_event("access_denied", user, attempt.ids);
  AnswerContext context = attempt.context;
  context.user = &user;
  Decision d = refuse(Reason::kAccessDenied, context);
  d.token_cache = attempt.token_cache;
  return d;
}

}  // namespace jotgate::auth

namespace jotgate::auth {

// The token workbench: sign_in_with_token's path step by step, changing nothing. The verdict
// (`result`) is the gateway's own: the token verified as authenticate() does (without its cache
// and without a refetch of keys), then the revocations and the allocation as the gate asks them.
TokenCheck VirtualProxyGate::check_token(std::string_view token) {
  const UnixSeconds now = clock_.now_seconds();
  const AnswerContext context{prefix_, true, nullptr};
  TokenCheck check;
  decode_token(token, check);
  if (!jwt_) {
    for (auto& outcome : check.steps) {
      outcome.detail = "not applicable: this virtual proxy does not sign users in with tokens";
    }
    check.refuse(Reason::kCredentialsNotAccepted, context);
  } else {
    jwt_->diagnose(token, now, check);
  }

  if (!check.user || revocations_ == nullptr) {
    check.skip(CheckStep::kRevocation, "not reached: no user");
  } else if (revocations_->refuses(check.token_id, check.issued_at, {}, now)) {
    check.fail(CheckStep::kRevocation, Reason::kTokenRevoked,
               "the token's jti " + check.token_id + " is revoked");
  } else if (revocations_->refuses({}, check.issued_at, *check.user, now)) {
    check.fail(CheckStep::kRevocation, Reason::kTokenRevoked,
               "the user's tokens issued until their revocation are revoked");
  } else {
    check.pass(CheckStep::kRevocation, "neither the jti nor the user is revoked");
  }

  if (!check.user) {
    check.skip(CheckStep::kAllocation, "not reached: no user");
  } else {
    switch (access_.standing(*check.user)) {
      case AccessCache::Standing::kAllowed:
        check.pass(CheckStep::kAllocation, check.user->qualified() + " may pass");
        break;
      case AccessCache::Standing::kWouldTakeSeat:
        check.pass(CheckStep::kAllocation, check.user->qualified() +
                                               " has no allocation and would take a seat "
                                               "(access.auto_allocate_seats)");
        break;
      case AccessCache::Standing::kDenied:
        check.fail(CheckStep::kAllocation, Reason::kAccessDenied,
                   check.user->qualified() + " has no access allocation and no seat is left");
        break;
    }
  }
  if (!jwt_) return check;

  if (anonymous_.always()) {
    check.accept("auth.anonymous is always: every request signs in anonymously, tokens unread");
    return check;
  }
  auto bearer = jwt_->verify_uncached(token, now);
  if (!bearer) {
    check.refuse(bearer.error().reason, context);
  } else if (revocations_ != nullptr && revocations_->refuses(bearer->token_id, bearer->issued_at,
                                                              bearer->credential.user, now)) {
    check.refuse(Reason::kTokenRevoked, context);
  } else if (access_.standing(bearer->credential.user) == AccessCache::Standing::kDenied) {
    AnswerContext denied = context;
    denied.user = &bearer->credential.user;
    check.refuse(Reason::kAccessDenied, denied);
  } else {
    check.accept("signed in as " + bearer->credential.user.qualified());
  }
  return check;
}

}  // namespace jotgate::auth
