#include "auth/gate.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <openssl/rand.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "auth/access_cache.h"
#include "auth/audit.h"
#include "auth/credentials.h"
#include "auth/rejection_audit.h"
#include "auth/session_admin.h"
#include "auth/ticket_store.h"
#include "auth/token_cache.h"
#include "jose/jwt_verifier.h"
#include "jose/key.h"
#include "session/cookie.h"
#include "session/session_store.h"

namespace jotgate::auth {

namespace {

bool forwardable(std::string_view part) {
  return !part.empty() && std::none_of(part.begin(), part.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == ';';
  });
}

std::string strip_controls(std::string text) {
  std::erase_if(text, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  return text;
}

// A claim as a header value: strings as they are, arrays of strings joined by ",", anything
// else as compact JSON.
std::string claim_value(const nlohmann::json& value) {
  if (value.is_string()) return strip_controls(value.get<std::string>());
  if (value.is_array() && std::all_of(value.begin(), value.end(),
                                      [](const nlohmann::json& v) { return v.is_string(); })) {
    std::string joined;
    for (const auto& v : value) joined += (joined.empty() ? "" : ",") + v.get<std::string>();
    return strip_controls(joined);
  }
  return strip_controls(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Decision refuse(Reason reason, const AnswerContext& context) {
  Decision d;
  d.reason = reason;
  d.refusal = answer_for(make_error(reason), context);
  return d;
}

// Anonymous users (auth.anonymous) live in this directory; no credential may claim it, so an
// anonymous session can never pass for a signed-in user or the reverse.
constexpr std::string_view kAnonymousDirectory = "ANONYMOUS";

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    std::abort();
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The gate of one virtual proxy: its session store, its sign-in method (JWT, trusted header,
// tickets only), anonymous users, and the one-time tickets of the admin API.
class VirtualProxyGate final : public Gate {
 public:
  VirtualProxyGate(const config::VirtualProxy& vp, std::optional<jose::JwtVerifier> verifier,
                   AccessCache& access, RejectionAudit& rejections, const Clock& clock)
      : prefix_(vp.prefix),
        identity_header_(vp.identity_header),
        method_(vp.auth.method),
        anonymous_(vp.auth.anonymous),
        header_(vp.auth.header),
        forward_claims_(vp.auth.jwt.forward_claims),
        forward_authorization_(method_ == config::AuthMethod::kJwt &&
                               vp.auth.jwt.forward_authorization),
        ticket_lifetime_(vp.auth.ticket_lifetime_seconds),
        secure_(vp.session.secure),
        verifier_(std::move(verifier)),
        tokens_(verifier_ && vp.auth.jwt.token_cache > 0
                    ? std::make_unique<TokenCache>(vp.auth.jwt.token_cache)
                    : nullptr),
        sessions_({vp.session.inactivity_timeout_seconds, vp.session.max_lifetime_seconds}),
        access_(access),
        rejections_(rejections),
        clock_(clock) {
    cookie_.name = vp.session.cookie_name;
    cookie_.path = "/" + vp.prefix;
    cookie_.domain = vp.session.domain;
    cookie_.max_age_seconds = vp.session.max_lifetime_seconds;
    cookie_.partitioned = vp.session.partitioned;
    switch (vp.session.same_site) {
      case config::SameSite::kLax: cookie_.same_site = session::CookieSameSite::kLax; break;
      case config::SameSite::kStrict: cookie_.same_site = session::CookieSameSite::kStrict; break;
      case config::SameSite::kNone: cookie_.same_site = session::CookieSameSite::kNone; break;
    }
    // Attributes of the admin API go upstream by the same names as forwarded claims.
    attribute_headers_ = forward_claims_;
    for (const auto& [name, header] : vp.auth.forward_attributes) attribute_headers_[name] = header;
    reserved_.push_back(identity_header_);
    for (const auto& [name, header] : attribute_headers_) reserved_.push_back(header);
    // Always: with forward_authorization, the Decision carries the one that was verified.
    reserved_.push_back("Authorization");
    if (method_ == config::AuthMethod::kHeader) {
      reserved_.push_back(header_.user_header);
      if (!header_.directory_header.empty()) reserved_.push_back(header_.directory_header);
    }
  }

  Decision check(const RequestView& request) override {
    // Not a list field (RFC 9110 section 11.6.2): never guess which of several was meant.
    const auto authorizations = request.headers("Authorization");
    if (authorizations.size() > 1) {
      return refuse(Reason::kAuthorizationRepeated, answer_context(request));
    }
    Attempt attempt = begin(request, session::Refresh::kYes);
    if (anonymous_ == config::AnonymousMode::kAlways) {
      if (attempt.current && attempt.current->user.directory == kAnonymousDirectory) {
        return allow(*attempt.current, std::nullopt, attempt.cookie_headers);
      }
      return sign_in_anonymous(request, attempt);
    }
    const std::optional<std::string_view> authorization =
        authorizations.empty() ? std::nullopt : std::optional(authorizations.front());
    if (auto token = bearer_token(authorization)) {
      Decision decision = sign_in_with(*token, request, attempt);
      // Only the credential just verified goes upstream; a cookie's request sends none.
      if (decision.allowed && forward_authorization_) {
        decision.upstream_headers.emplace_back("Authorization", std::string(*authorization));
      }
      return decision;
    }
    if (method_ == config::AuthMethod::kHeader) {
      if (auto user = request.header(header_.user_header)) {
        return sign_in_with_header(*user, request, attempt);
      }
    }
    if (attempt.current) {
      if (!admitted(attempt.current->user, attempt.now)) {
        sessions_.remove(attempt.current->handle);
        return deny(attempt.current->user, attempt.context);
      }
      return allow(*attempt.current, std::nullopt, attempt.cookie_headers);
    }
    if (anonymous_ == config::AnonymousMode::kAllow) {
      return sign_in_anonymous(request, attempt);
    }
    return refuse(Reason::kNoCredentials, attempt.context);
  }

  Decision sign_in(const RequestView& request, std::string_view token) override {
    Attempt attempt = begin(request, session::Refresh::kYes);
    return sign_in_with(token, request, attempt);
  }

  Decision redeem_ticket(const RequestView& request, std::string_view ticket) override {
    Attempt attempt = begin(request, session::Refresh::kYes);
    auto grant = tickets_.redeem(ticket, attempt.now);
    if (!grant) {
      rejected("ticket_rejected", Reason::kTicketInvalid, request, attempt.now);
      return refuse(Reason::kTicketInvalid, attempt.context);
    }
    return sign_in_user(grant->user, std::move(grant->attributes), "ticket", request, attempt);
  }

  std::optional<SessionInfo> session_info(const RequestView& request) override {
    const UnixSeconds now = clock_.now_seconds();
    auto current = find_session(request.headers("Cookie"), now, session::Refresh::kNo);
    if (!current) return std::nullopt;
    return SessionInfo{current->user, current->attributes, current->expires_at,
                       current->expires_at - now};
  }

  std::string end_session(const RequestView& request) override {
    const UnixSeconds now = clock_.now_seconds();
    if (auto current = find_session(request.headers("Cookie"), now, session::Refresh::kNo)) {
      sessions_.remove(current->handle);
      audit("logout", {{"vp", prefix_}, {"user", current->user.qualified()}});
    }
    session::CookieSpec spec = cookie_;
    spec.secure = cookie_secure(request);
    return session::build_expired_cookie(spec);
  }

  void touch(std::uint64_t session_handle) override {
    if (session_handle != 0) sessions_.touch(session_handle, clock_.now_seconds());
  }

  const std::vector<std::string>& reserved_request_headers() const override { return reserved_; }

  // --- for the admin API (GateSetImpl) ---

  // Checks an identity and attributes given by the admin API: forwardable, not anonymous,
  // allocated, attributes among the configured names. Returns them mapped to header names.
  Result<session::Attributes> admit_for_admin(const UserIdentity& user,
                                              const HeaderList& attributes) {
    if (!valid_identity(user)) {
      // The detail names the field for the admin API's field-level error.
      return make_error(Reason::kIdentityInvalid, forwardable(user.id) ? "userDirectory" : "userId");
    }
    session::Attributes headers;
    for (const auto& [name, value] : attributes) {
      auto it = attribute_headers_.find(name);
      if (it == attribute_headers_.end()) {
        return make_error(Reason::kBadRequest,
                          "attributes." + name + ": not an attribute this virtual proxy forwards "
                                                 "(auth.forward_attributes or jwt.forward_claims)");
      }
      if (!forwardable(value)) {
        return make_error(Reason::kBadRequest,
                          "attributes." + name + ": the value is empty or holds control "
                                                 "characters or ';'");
      }
      headers.emplace_back(it->second, value);
    }
    if (!access_.admit(user, clock_.now_seconds())) {
      return make_error(Reason::kAccessDenied, user.qualified() + " has no access allocation");
    }
    return headers;
  }

  Result<std::string> issue_ticket(const UserIdentity& user, session::Attributes headers,
                                   UnixSeconds expires_at) {
    auto ticket = tickets_.issue({user, std::move(headers), expires_at}, clock_.now_seconds());
    if (!ticket) {
      return make_error(Reason::kBadRequest, "too many live tickets; try again later");
    }
    return std::move(*ticket);
  }

  session::SessionStore& sessions() { return sessions_; }
  TicketStore& tickets() { return tickets_; }
  const std::string& prefix() const { return prefix_; }
  const std::string& cookie_name() const { return cookie_.name; }
  std::int64_t ticket_lifetime() const { return ticket_lifetime_; }

 private:
  // What every sign-in path starts from: the time, the answer format, the client's session.
  struct Attempt {
    UnixSeconds now = 0;
    AnswerContext context;
    std::vector<std::string_view> cookie_headers;
    std::optional<session::SessionView> current;
  };

  AnswerContext answer_context(const RequestView& request) const {
    return AnswerContext{prefix_, wants_json(request.header("Accept")), nullptr};
  }

  Attempt begin(const RequestView& request, session::Refresh refresh) {
    Attempt attempt;
    attempt.now = clock_.now_seconds();
    attempt.context = answer_context(request);
    attempt.cookie_headers = request.headers("Cookie");
    attempt.current = find_session(attempt.cookie_headers, attempt.now, refresh);
    return attempt;
  }

  // A token presented (header or form): verified or from the cache, then the session.
  Decision sign_in_with(std::string_view token, const RequestView& request, Attempt& attempt) {
    if (!verifier_) {
      rejected("token_rejected", Reason::kCredentialsNotAccepted, request, attempt.now);
      return refuse(Reason::kCredentialsNotAccepted, attempt.context);
    }
    auto signed_in = authenticate(token, attempt.now);
    if (!signed_in) {
      rejected("token_rejected", signed_in.error().reason, request, attempt.now);
      return refuse(signed_in.error().reason, attempt.context);
    }
    const UserIdentity& user = signed_in->user;
    if (!admitted(user, attempt.now)) {
      if (attempt.current) sessions_.remove(attempt.current->handle);
      return deny(user, attempt.context);
    }
    if (attempt.current && attempt.current->user == user) {
      return allow(*attempt.current, std::nullopt, attempt.cookie_headers);
    }
    // A session of someone else is ended (never reused).
    if (attempt.current) sessions_.remove(attempt.current->handle);
    // The same token again without its cookie (API clients, or a cookie the client lost):
    // the session it signed in, and its cookie once more.
    if (signed_in->session_handle != 0 &&
        sessions_.touch(signed_in->session_handle, attempt.now)) {
      session::SessionView view{signed_in->session_handle, user, signed_in->attributes};
      return allow(view, set_cookie(request, signed_in->session_cookie), attempt.cookie_headers);
    }
    auto created = sessions_.create(user, signed_in->attributes, attempt.now);
    if (signed_in->cache_key) {
      tokens_->set_session(*signed_in->cache_key, created.handle, created.cookie_value);
    }
    audit("sign_in", {{"vp", prefix_}, {"user", user.qualified()}, {"method", "jwt"}});
    session::SessionView view{created.handle, user, std::move(signed_in->attributes)};
    return allow(view, set_cookie(request, created.cookie_value), attempt.cookie_headers);
  }

  // auth.method header: the user a fronting SSO names, on trusted listeners only.
  Decision sign_in_with_header(std::string_view value, const RequestView& request,
                               Attempt& attempt) {
    if (!request.trusted_listener()) {
      rejected("header_rejected", Reason::kHeaderUntrusted, request, attempt.now);
      return refuse(Reason::kHeaderUntrusted, attempt.context);
    }
    std::optional<UserIdentity> user;
    const config::HeaderAuthSettings& settings = header_;
    if (!settings.directory.empty()) {
      user = UserIdentity{settings.directory, std::string(value)};
    } else if (!settings.directory_header.empty()) {
      if (auto directory = request.header(settings.directory_header)) {
        user = UserIdentity{std::string(*directory), std::string(value)};
      }
    } else {
      user = config::parse_qualified_user(value);
    }
    if (!user || !valid_identity(*user)) {
      rejected("header_rejected", Reason::kIdentityInvalid, request, attempt.now);
      return refuse(Reason::kIdentityInvalid, attempt.context);
    }
    return sign_in_user(*user, {}, "header", request, attempt);
  }

  // A user vouched for (trusted header, ticket): allocation, then this user's session, kept
  // when the client already has one, else a new one.
  Decision sign_in_user(const UserIdentity& user, session::Attributes attributes,
                        std::string_view method, const RequestView& request, Attempt& attempt) {
    if (!admitted(user, attempt.now)) {
      if (attempt.current) sessions_.remove(attempt.current->handle);
      return deny(user, attempt.context);
    }
    if (attempt.current && attempt.current->user == user &&
        attempt.current->attributes == attributes) {
      return allow(*attempt.current, std::nullopt, attempt.cookie_headers);
    }
    if (attempt.current) sessions_.remove(attempt.current->handle);
    auto created = sessions_.create(user, attributes, attempt.now);
    audit("sign_in", {{"vp", prefix_}, {"user", user.qualified()}, {"method", method}});
    session::SessionView view{created.handle, user, std::move(attributes)};
    return allow(view, set_cookie(request, created.cookie_value), attempt.cookie_headers);
  }

  Decision sign_in_anonymous(const RequestView& request, Attempt& attempt) {
    if (attempt.current) sessions_.remove(attempt.current->handle);
    const UserIdentity user{std::string(kAnonymousDirectory), "anon-" + random_hex(12)};
    auto created = sessions_.create(user, {}, attempt.now);
    audit("sign_in", {{"vp", prefix_}, {"user", user.qualified()}, {"method", "anonymous"}});
    session::SessionView view{created.handle, user, {}};
    return allow(view, set_cookie(request, created.cookie_value), attempt.cookie_headers);
  }

  // Anonymous users need no allocation; everyone else does.
  bool admitted(const UserIdentity& user, UnixSeconds now) {
    if (user.directory == kAnonymousDirectory) return anonymous_ != config::AnonymousMode::kNone;
    return access_.admit(user, now);
  }

  static bool valid_identity(const UserIdentity& user) {
    return forwardable(user.directory) && forwardable(user.id) &&
           user.directory.find('\\') == std::string::npos && user.directory != kAnonymousDirectory;
  }

  // The session the cookie names, if any (a client-chosen value only ever finds an existing
  // session: ids are never adopted).
  std::optional<session::SessionView> find_session(const std::vector<std::string_view>& headers,
                                                   UnixSeconds now, session::Refresh refresh) {
    for (std::string_view value : session::find_cookie_values(headers, cookie_.name)) {
      auto found = sessions_.lookup(value, now, refresh);
      if (found.status == session::LookupStatus::kFound) return std::move(found.session);
      if (found.status == session::LookupStatus::kExpired) {
        audit("session_expired", {{"vp", prefix_}, {"user", found.session.user.qualified()}});
      }
    }
    return std::nullopt;
  }

  bool cookie_secure(const RequestView& request) const {
    return secure_ == config::SecureMode::kAlways ||
           (secure_ == config::SecureMode::kAuto && request.is_tls());
  }

  // A bearer token proven: from the cache, or verified (and then cached).
  struct SignedIn {
    UserIdentity user;
    session::Attributes attributes;
    std::uint64_t session_handle = 0;  // the session this token signed in before, if cached
    std::string session_cookie;        // and its cookie value
    std::optional<TokenCache::Digest> cache_key;
  };

  Result<SignedIn> authenticate(std::string_view token, UnixSeconds now) {
    SignedIn out;
    if (tokens_) {
      out.cache_key = TokenCache::digest(token);
      if (auto hit = tokens_->find(*out.cache_key, now)) {
        out.user = std::move(hit->user);
        out.attributes = std::move(hit->attributes);
        out.session_handle = hit->session_handle;
        out.session_cookie = std::move(hit->session_cookie);
        return out;
      }
    }
    auto jwt = verifier_->verify(token, now);
    if (!jwt) return jwt.error();
    const UserIdentity& user = jwt->user();
    if (!valid_identity(user)) return make_error(Reason::kIdentityInvalid, "");
    out.user = user;
    out.attributes = forwarded_claims(jwt->claims());
    if (tokens_) {
      // Never past exp; a token without exp is re-verified every few minutes.
      const UnixSeconds until = jwt->expires_at().value_or(now + kNoExpiryCacheSeconds);
      if (until > now) tokens_->insert(*out.cache_key, {out.user, out.attributes, until, 0, {}});
    }
    return out;
  }

  static constexpr UnixSeconds kNoExpiryCacheSeconds = 300;

  session::Attributes forwarded_claims(const nlohmann::json& claims) const {
    session::Attributes out;
    for (const auto& [claim, header] : forward_claims_) {
      auto it = claims.find(claim);
      if (it == claims.end() || it->is_null()) continue;
      out.emplace_back(header, claim_value(*it));
    }
    return out;
  }

  std::string set_cookie(const RequestView& request, const std::string& value) const {
    session::CookieSpec spec = cookie_;
    spec.secure = cookie_secure(request);
    return session::build_set_cookie(spec, value);
  }

  Decision allow(const session::SessionView& view, std::optional<std::string> cookie,
                 const std::vector<std::string_view>& cookie_headers) const {
    Decision d;
    d.allowed = true;
    d.user = view.user;
    d.session_handle = view.handle;
    d.set_cookie = std::move(cookie);
    d.upstream_headers.emplace_back(identity_header_, "UserDirectory=" + view.user.directory +
                                                          "; UserId=" + view.user.id);
    for (const auto& header : view.attributes) d.upstream_headers.push_back(header);
    d.upstream_cookie = session::strip_cookie(cookie_headers, cookie_.name);
    return d;
  }

  // Refused credentials are audited through rejections_: repeats are counted, not written.
  void rejected(std::string_view event, Reason reason, const RequestView& request,
                UnixSeconds now) {
    rejections_.record({std::string(event), prefix_, std::string(reason_code(reason)),
                        std::string(request.client_ip())},
                       now);
  }

  Decision deny(const UserIdentity& user, AnswerContext context) const {
    audit("access_denied", {{"vp", prefix_}, {"user", user.qualified()}});
    context.user = &user;
    return refuse(Reason::kAccessDenied, context);
  }

  const std::string prefix_;
  const std::string identity_header_;
  const config::AuthMethod method_;
  const config::AnonymousMode anonymous_;
  const config::HeaderAuthSettings header_;          // method header
  const std::map<std::string, std::string> forward_claims_;  // claim -> header (method jwt)
  const bool forward_authorization_;  // the verified bearer's Authorization goes upstream
  const std::int64_t ticket_lifetime_;
  const config::SecureMode secure_;
  session::CookieSpec cookie_;
  std::map<std::string, std::string> attribute_headers_;  // admin attribute -> header
  std::optional<jose::JwtVerifier> verifier_;  // method jwt only
  std::unique_ptr<TokenCache> tokens_;  // null: token_cache 0, or not method jwt
  session::SessionStore sessions_;
  TicketStore tickets_;
  AccessCache& access_;
  RejectionAudit& rejections_;
  const Clock& clock_;
  std::vector<std::string> reserved_;
};

class GateSetImpl final : public GateSet, public SessionAdmin {
 public:
  GateSetImpl(std::unique_ptr<AccessCache> access, const Clock& clock)
      : access_(std::move(access)), clock_(clock) {}

  Gate& gate(std::size_t index) override { return *gates_.at(index); }
  SessionAdmin& admin() override { return *this; }

  void maintain() override {
    const UnixSeconds now = clock_.now_seconds();
    for (auto& gate : gates_) {
      gate->sessions().expire(now, [&](const UserIdentity& user) {
        audit("session_expired", {{"vp", gate->prefix()}, {"user", user.qualified()}});
      });
      gate->tickets().expire(now);
    }
    rejections_.flush(now);
    access_->maintain([&](const UserIdentity& user) {
      std::size_t ended = 0;
      for (auto& gate : gates_) ended += gate->sessions().remove_user(user);
      audit("access_revoked",
            {{"user", user.qualified()}, {"sessions_ended", std::to_string(ended)}});
    });
  }

  // --- SessionAdmin ---

  std::optional<std::size_t> find_virtual_proxy(std::string_view prefix) const override {
    if (prefix == "~") prefix = "";
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      if (gates_[i]->prefix() == prefix) return i;
    }
    return std::nullopt;
  }

  std::string_view prefix_of(std::size_t virtual_proxy) const override {
    return gates_.at(virtual_proxy)->prefix();
  }

  Result<IssuedTicket> issue_ticket(std::size_t virtual_proxy, TicketRequest request) override {
    VirtualProxyGate& gate = *gates_.at(virtual_proxy);
    if (!request.target_uri.empty() && !under_prefix(request.target_uri, gate.prefix())) {
      return make_error(Reason::kBadRequest,
                        "targetUri: must be a path under /" + gate.prefix() +
                            "/ (the virtual proxy the ticket is for)");
    }
    auto headers = gate.admit_for_admin(request.user, request.attributes);
    if (!headers) return headers.error();
    const UnixSeconds expires_at = clock_.now_seconds() + gate.ticket_lifetime();
    auto ticket = gate.issue_ticket(request.user, std::move(*headers), expires_at);
    if (!ticket) return ticket.error();
    audit("ticket_issued", {{"vp", gate.prefix()}, {"user", request.user.qualified()}});
    return IssuedTicket{std::move(*ticket), expires_at, std::move(request.target_uri)};
  }

  Result<SessionRecord> create_session(std::size_t virtual_proxy, const UserIdentity& user,
                                       HeaderList attributes) override {
    VirtualProxyGate& gate = *gates_.at(virtual_proxy);
    auto headers = gate.admit_for_admin(user, attributes);
    if (!headers) return headers.error();
    auto created = gate.sessions().create(user, *headers, clock_.now_seconds());
    audit("sign_in", {{"vp", gate.prefix()}, {"user", user.qualified()}, {"method", "admin"}});
    auto record = find_session(virtual_proxy, created.cookie_value);
    if (!record) return make_error(Reason::kNotFound, "the session ended at once");
    return std::move(*record);
  }

  std::optional<SessionRecord> find_session(std::size_t virtual_proxy,
                                            std::string_view id) override {
    VirtualProxyGate& gate = *gates_.at(virtual_proxy);
    auto found = gate.sessions().lookup(id, clock_.now_seconds(), session::Refresh::kNo);
    if (found.status != session::LookupStatus::kFound) return std::nullopt;
    return record_of(gate, std::string(id), found.session);
  }

  bool end_session(std::size_t virtual_proxy, std::string_view id) override {
    VirtualProxyGate& gate = *gates_.at(virtual_proxy);
    auto found = gate.sessions().lookup(id, clock_.now_seconds(), session::Refresh::kNo);
    if (found.status != session::LookupStatus::kFound) return false;
    gate.sessions().remove(found.session.handle);
    audit("logout",
          {{"vp", gate.prefix()}, {"user", found.session.user.qualified()}, {"by", "admin"}});
    return true;
  }

  std::vector<SessionRecord> user_sessions(const UserIdentity& user) override {
    std::vector<SessionRecord> out;
    const UnixSeconds now = clock_.now_seconds();
    for (auto& gate : gates_) {
      for (auto& [id, view] : gate->sessions().sessions_of(user, now)) {
        out.push_back(record_of(*gate, std::move(id), view));
      }
    }
    return out;
  }

  std::size_t end_user_sessions(const UserIdentity& user) override {
    std::size_t ended = 0;
    for (auto& gate : gates_) ended += gate->sessions().remove_user(user);
    audit("logout", {{"user", user.qualified()},
                     {"by", "admin"},
                     {"sessions_ended", std::to_string(ended)}});
    return ended;
  }

  std::unique_ptr<AccessCache> access_;
  RejectionAudit rejections_;
  const Clock& clock_;
  std::vector<std::unique_ptr<VirtualProxyGate>> gates_;

 private:
  static bool under_prefix(std::string_view uri, std::string_view prefix) {
    if (uri.find_first_of("\\\r\n") != std::string_view::npos) return false;
    // Absolute URLs name their own host; a ticket is for this gateway's paths only.
    if (uri.empty() || uri.front() != '/' || uri.starts_with("//")) return false;
    // No dot segments: "/jwt/../other" leaves the prefix once a browser resolves it.
    const std::string_view path_part = uri.substr(0, uri.find_first_of("?#"));
    for (std::size_t at = 0; at != std::string_view::npos;) {
      const std::size_t next = path_part.find('/', at + 1);
      const std::string_view segment = path_part.substr(at + 1, next - at - 1);
      if (segment == "." || segment == "..") return false;
      at = next;
    }
    if (prefix.empty()) return true;
    const std::string_view path = uri.substr(1);
    return path.starts_with(prefix) &&
           (path.size() == prefix.size() || std::string_view("/?#").find(path[prefix.size()]) !=
                                                std::string_view::npos);
  }

  static SessionRecord record_of(VirtualProxyGate& gate, std::string id,
                                 const session::SessionView& view) {
    return {std::move(id), gate.prefix(), gate.cookie_name(), view.user, view.attributes,
            view.expires_at};
  }
};

}  // namespace

Result<std::unique_ptr<GateSet>> GateSet::create(const config::GatewayConfig& config,
                                                 const Clock& clock) {
  audit_log();  // registered before the workers start
  auto access = AccessCache::create(config.access, config.data_dir, clock.now_seconds());
  if (!access) return access.error();
  auto set = std::make_unique<GateSetImpl>(std::move(*access), clock);
  for (std::size_t i = 0; i < config.virtual_proxies.size(); ++i) {
    const config::VirtualProxy& vp = config.virtual_proxies[i];
    const std::string place = "virtual_proxies[" + std::to_string(i) + "].auth";
    std::optional<jose::JwtVerifier> verifier;
    if (vp.auth.method == config::AuthMethod::kJwt) {
      jose::KeySet keys = vp.auth.jwt.keys;
      if (keys.empty()) {  // a config built in code rather than loaded
        auto loaded = jose::load_verification_keys(vp.auth.jwt.key);
        if (!loaded) {
          Error error = loaded.error();
          error.detail = place + ".jwt.key: " + error.message();
          return error;
        }
        keys = std::move(*loaded);
      }
      auto created = jose::JwtVerifier::create(vp.auth.jwt.verifier, std::move(keys));
      if (!created) {
        Error error = created.error();
        error.detail = place + ".jwt: " + error.message();
        return error;
      }
      verifier.emplace(std::move(*created));
    }
    set->gates_.push_back(
        std::make_unique<VirtualProxyGate>(vp, std::move(verifier), *set->access_,
                                           set->rejections_, clock));
  }
  return std::unique_ptr<GateSet>(std::move(set));
}

}  // namespace jotgate::auth
