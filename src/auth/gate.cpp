#include "auth/gate.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "auth/access_cache.h"
#include "auth/answer.h"
#include "auth/token_cache.h"
#include "jose/jwt_verifier.h"
#include "jose/key.h"
#include "session/cookie.h"
#include "session/session_store.h"

namespace jotgate::auth {

namespace {

// Audit events: who signed in, which token was refused and why, which session expired, who was
// denied. Never a token, a key or a session id.
std::shared_ptr<spdlog::logger> audit_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("audit")) return existing;
  auto logger = spdlog::stdout_logger_mt("audit");
  return logger;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

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

// "Bearer <token>" with the scheme in any case; nullopt when the header is absent or another
// scheme (which the gate treats as no credentials).
std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  if (!authorization) return std::nullopt;
  std::string_view value = *authorization;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.size() < 6 || !iequals(value.substr(0, 6), "bearer")) return std::nullopt;
  if (value.size() > 6 && value[6] != ' ') return std::nullopt;  // "Bearerx"
  value.remove_prefix(6);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

class JwtGate final : public Gate {
 public:
  JwtGate(const config::VirtualProxy& vp, jose::JwtVerifier verifier, AccessCache& access,
          const Clock& clock)
      : prefix_(vp.prefix),
        identity_header_(vp.identity_header),
        forward_claims_(vp.auth.jwt.forward_claims),
        secure_(vp.session.secure),
        verifier_(std::move(verifier)),
        tokens_(vp.auth.jwt.token_cache > 0
                    ? std::make_unique<TokenCache>(vp.auth.jwt.token_cache)
                    : nullptr),
        sessions_({vp.session.inactivity_timeout_seconds, vp.session.max_lifetime_seconds}),
        access_(access),
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
    reserved_.push_back(identity_header_);
    for (const auto& [claim, header] : forward_claims_) reserved_.push_back(header);
    if (!vp.auth.jwt.forward_authorization) reserved_.push_back("Authorization");
  }

  Decision check(const RequestView& request) override {
    const UnixSeconds now = clock_.now_seconds();
    const AnswerContext context{prefix_, wants_json(request.header("Accept")), nullptr};
    const std::vector<std::string_view> cookie_headers = request.headers("Cookie");
    std::optional<session::SessionView> current =
        find_session(cookie_headers, now, session::Refresh::kYes);

    if (auto token = bearer_token(request.header("Authorization"))) {
      return sign_in_with(*token, request, current, cookie_headers, now, context);
    }

    if (current) {
      if (!access_.admit(current->user, now)) {
        sessions_.remove(current->handle);
        return deny(current->user, context);
      }
      return allow(*current, std::nullopt, cookie_headers);
    }
    return refuse(Reason::kNoCredentials, context);
  }

  Decision sign_in(const RequestView& request, std::string_view token) override {
    const UnixSeconds now = clock_.now_seconds();
    const AnswerContext context{prefix_, wants_json(request.header("Accept")), nullptr};
    const std::vector<std::string_view> cookie_headers = request.headers("Cookie");
    std::optional<session::SessionView> current =
        find_session(cookie_headers, now, session::Refresh::kYes);
    return sign_in_with(token, request, current, cookie_headers, now, context);
  }

  std::optional<SessionInfo> session_info(const RequestView& request) override {
    const UnixSeconds now = clock_.now_seconds();
    auto current = find_session(request, now, session::Refresh::kNo);
    if (!current) return std::nullopt;
    return SessionInfo{current->user, current->attributes, current->expires_at,
                       current->expires_at - now};
  }

  std::string end_session(const RequestView& request) override {
    if (auto current = find_session(request, clock_.now_seconds(), session::Refresh::kNo)) {
      sessions_.remove(current->handle);
      audit_logger()->info("event=logout vp={} user={}", prefix_, current->user.qualified());
    }
    session::CookieSpec spec = cookie_;
    spec.secure = cookie_secure(request);
    return session::build_expired_cookie(spec);
  }

  void touch(std::uint64_t session_handle) override {
    if (session_handle != 0) sessions_.touch(session_handle, clock_.now_seconds());
  }

  const std::vector<std::string>& reserved_request_headers() const override { return reserved_; }

  session::SessionStore& sessions() { return sessions_; }
  const std::string& prefix() const { return prefix_; }

 private:
  // A token presented (header or form): verified or from the cache, allocation checked, then
  // the client's session: kept when it is this user's, else replaced by a new one.
  Decision sign_in_with(std::string_view token, const RequestView& request,
                        const std::optional<session::SessionView>& current,
                        const std::vector<std::string_view>& cookie_headers, UnixSeconds now,
                        const AnswerContext& context) {
    auto signed_in = authenticate(token, now);
    if (!signed_in) return refuse(signed_in.error().reason, context);
    const UserIdentity& user = signed_in->user;
    if (!access_.admit(user, now)) {
      if (current) sessions_.remove(current->handle);
      return deny(user, context);
    }
    if (current && current->user == user) return allow(*current, std::nullopt, cookie_headers);
    // A session of someone else is ended (never reused).
    if (current) sessions_.remove(current->handle);
    // The same token again without its cookie (API clients, or a cookie the client lost):
    // the session it signed in, and its cookie once more.
    if (signed_in->session_handle != 0 && sessions_.touch(signed_in->session_handle, now)) {
      session::SessionView view{signed_in->session_handle, user, signed_in->attributes};
      return allow(view, set_cookie(request, signed_in->session_cookie), cookie_headers);
    }
    auto created = sessions_.create(user, signed_in->attributes, now);
    if (signed_in->cache_key) {
      tokens_->set_session(*signed_in->cache_key, created.handle, created.cookie_value);
    }
    audit_logger()->info("event=sign_in vp={} user={}", prefix_, user.qualified());
    session::SessionView view{created.handle, user, std::move(signed_in->attributes)};
    return allow(view, set_cookie(request, created.cookie_value), cookie_headers);
  }

  // The session the cookie names, if any (a client-chosen value only ever finds an existing
  // session: ids are never adopted).
  std::optional<session::SessionView> find_session(const std::vector<std::string_view>& headers,
                                                   UnixSeconds now, session::Refresh refresh) {
    for (std::string_view value : session::find_cookie_values(headers, cookie_.name)) {
      auto found = sessions_.lookup(value, now, refresh);
      if (found.status == session::LookupStatus::kFound) return std::move(found.session);
      if (found.status == session::LookupStatus::kExpired) {
        audit_logger()->info("event=session_expired vp={} user={}", prefix_,
                             found.session.user.qualified());
      }
    }
    return std::nullopt;
  }
  std::optional<session::SessionView> find_session(const RequestView& request, UnixSeconds now,
                                                   session::Refresh refresh) {
    return find_session(request.headers("Cookie"), now, refresh);
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
    auto jwt = verifier_.verify(token, now);
    if (!jwt) {
      audit_logger()->info("event=token_rejected vp={} reason={}", prefix_,
                           reason_code(jwt.error().reason));
      return jwt.error();
    }
    const UserIdentity& user = jwt->user();
    if (!forwardable(user.directory) || !forwardable(user.id) ||
        user.directory.find('\\') != std::string::npos) {
      audit_logger()->info("event=token_rejected vp={} reason={}", prefix_,
                           reason_code(Reason::kIdentityInvalid));
      return make_error(Reason::kIdentityInvalid, "");
    }
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

  Decision deny(const UserIdentity& user, AnswerContext context) const {
    audit_logger()->info("event=access_denied vp={} user={}", prefix_, user.qualified());
    context.user = &user;
    return refuse(Reason::kAccessDenied, context);
  }

  const std::string prefix_;
  const std::string identity_header_;
  const std::map<std::string, std::string> forward_claims_;
  const config::SecureMode secure_;
  session::CookieSpec cookie_;
  jose::JwtVerifier verifier_;
  std::unique_ptr<TokenCache> tokens_;  // null: token_cache 0
  session::SessionStore sessions_;
  AccessCache& access_;
  const Clock& clock_;
  std::vector<std::string> reserved_;
};

class GateSetImpl final : public GateSet {
 public:
  GateSetImpl(std::unique_ptr<AccessCache> access, const Clock& clock)
      : access_(std::move(access)), clock_(clock) {}

  Gate& gate(std::size_t index) override { return *gates_.at(index); }

  void maintain() override {
    const UnixSeconds now = clock_.now_seconds();
    for (auto& gate : gates_) {
      gate->sessions().expire(now, [&](const UserIdentity& user) {
        audit_logger()->info("event=session_expired vp={} user={}", gate->prefix(),
                             user.qualified());
      });
    }
    access_->maintain([&](const UserIdentity& user) {
      std::size_t ended = 0;
      for (auto& gate : gates_) ended += gate->sessions().remove_user(user);
      audit_logger()->info("event=access_revoked user={} sessions_ended={}", user.qualified(),
                           ended);
    });
  }

  std::unique_ptr<AccessCache> access_;
  const Clock& clock_;
  std::vector<std::unique_ptr<JwtGate>> gates_;
};

}  // namespace

Result<std::unique_ptr<GateSet>> GateSet::create(const config::GatewayConfig& config,
                                                 const Clock& clock) {
  audit_logger();
  auto access = AccessCache::create(config.access, config.data_dir, clock.now_seconds());
  if (!access) return access.error();
  auto set = std::make_unique<GateSetImpl>(std::move(*access), clock);
  for (std::size_t i = 0; i < config.virtual_proxies.size(); ++i) {
    const config::VirtualProxy& vp = config.virtual_proxies[i];
    const std::string place = "virtual_proxies[" + std::to_string(i) + "].auth";
    if (vp.auth.method != "jwt") {
      return make_error(Reason::kBadRequest, place + ".method: " + vp.auth.method +
                                                 " is not supported");
    }
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
    auto verifier = jose::JwtVerifier::create(vp.auth.jwt.verifier, std::move(keys));
    if (!verifier) {
      Error error = verifier.error();
      error.detail = place + ".jwt: " + error.message();
      return error;
    }
    set->gates_.push_back(
        std::make_unique<JwtGate>(vp, std::move(*verifier), *set->access_, clock));
  }
  return std::unique_ptr<GateSet>(std::move(set));
}

}  // namespace jotgate::auth
