#include "proxy/auth_endpoints.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "base/answer.h"
#include "base/percent_encoding.h"
#include "base/text.h"

namespace jotgate::proxy {

namespace {

Answer plain(int status, std::string body) {
  return {status,
          {{"Content-Type", "text/plain; charset=utf-8"}, {"Cache-Control", "no-store"}},
          std::move(body) + "\n"};
}

Answer method_not_allowed(std::string allow) {
  Answer reply = plain(405, "Method Not Allowed: this endpoint takes " + allow);
  reply.headers.emplace_back("Allow", std::move(allow));
  return reply;
}

Answer me(auth::Gate& gate, const auth::RequestView& request, const config::VirtualProxy& vp) {
  auto info = gate.session_info(request);
  if (!info) {
    Answer refusal = answer_for(make_error(Reason::kNoCredentials), {vp.prefix, true, nullptr});
    refusal.headers.emplace_back("Cache-Control", "no-store");
    return {refusal.status, std::move(refusal.headers), std::move(refusal.body)};
  }
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [name, value] : info->attributes) attributes[name] = value;
  nlohmann::json body = {{"userDirectory", info->user.directory},
                         {"userId", info->user.id},
                         {"attributes", std::move(attributes)},
                         {"expiresAt", info->expires_at},
                         {"expiresIn", info->expires_in}};
  return {200,
          {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}},
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Answer logout(auth::Gate& gate, const auth::RequestView& request, std::string_view query,
              const config::VirtualProxy& vp) {
  const std::string_view method = request.method();
  std::optional<std::string> location;
  if (method == "GET") {
    // A link may sign out too, but it may only lead back to this host (no open redirect).
    auto return_to = query_param(query, "returnTo");
    if (!return_to) return plain(400, "Bad Request: GET .auth/logout needs returnTo=/path");
    location = return_target(*return_to, vp.cors_allowed_origins, own_origin(request));
    if (!location) {
      return plain(400, "Bad Request: returnTo must be a path on this host, such as /" + vp.prefix +
                            "/, or a URL of an allowed origin");
    }
  } else if (method == "POST") {
    if (!vp.logout_redirect_uri.empty()) location = vp.logout_redirect_uri;
  } else {
    return method_not_allowed("GET, POST");
  }
  Answer reply{location ? 303 : 204, {}, {}};
  reply.headers.emplace_back("Set-Cookie", gate.end_session(request));
  reply.headers.emplace_back("Cache-Control", "no-store");
  if (location) reply.headers.emplace_back("Location", *location);
  return reply;
}

// A form value (application/x-www-form-urlencoded), decoded; nullopt when malformed.
std::optional<std::string> form_decode(std::string_view encoded) {
  return percent_decode(encoded, /*plus_is_space=*/true);
}

// A decision that is not one yet: the token's keys are being fetched again (only when the
// request may wait for them, so `keys_wait` is given).
bool waits_for_keys(auth::Decision& decision, std::optional<auth::KeysWait>* keys_wait) {
  if (!decision.keys_wait || keys_wait == nullptr) return false;
  *keys_wait = std::move(decision.keys_wait);
  return true;
}

Answer session(auth::Gate& gate, const auth::RequestView& request, std::string_view query,
               std::string_view form, const config::VirtualProxy& vp,
               std::optional<auth::DecisionStats>* decided,
               std::optional<auth::KeysWait>* keys_wait) {
  if (request.method() != "POST") return method_not_allowed("POST");
  if (!form.empty()) {
    auto type = request.header("Content-Type");
    if (!type || !type->starts_with("application/x-www-form-urlencoded")) {
      return plain(415, "Unsupported Media Type: send application/x-www-form-urlencoded");
    }
  }
  // returnTo: the form's, else the query's; a path on this host or a URL of an allowed origin.
  std::optional<std::string> location;
  auto return_to = query_param(form, "returnTo");
  if (!return_to) return_to = query_param(query, "returnTo");
  if (return_to) {
    location = return_target(*return_to, vp.cors_allowed_origins, own_origin(request));
    if (!location) {
      return plain(400,
                   "Bad Request: returnTo must be a path on this host or a URL of an "
                   "allowed origin");
    }
  }
  auth::Decision decision;
  if (auto field = query_param(form, "token")) {
    auto token = form_decode(*field);
    if (!token) return plain(400, "Bad Request: malformed form field token");
    decision = gate.sign_in(request, *token);
  } else if (request.header("Authorization")) {
    decision = gate.check(request);
  } else {
    return plain(400,
                 "Bad Request: a token is required (Authorization: Bearer, or form field "
                 "token)");
  }
  if (waits_for_keys(decision, keys_wait)) return {};
  if (decided != nullptr) *decided = decision.stats();
  if (!decision.allowed) {
    return {decision.refusal.status, std::move(decision.refusal.headers),
            std::move(decision.refusal.body)};
  }
  Answer reply{location ? 303 : 204, {}, {}};
  if (decision.set_cookie) reply.headers.emplace_back("Set-Cookie", *decision.set_cookie);
  reply.headers.emplace_back("Cache-Control", "no-store");
  if (location) reply.headers.emplace_back("Location", *location);
  return reply;
}

Answer verify(auth::Gate& gate, const auth::RequestView& request, std::string_view query,
              const config::VirtualProxy& vp, std::optional<auth::DecisionStats>* decided,
              std::optional<auth::KeysWait>* keys_wait) {
  if (request.method() != "GET" && request.method() != "HEAD") {
    return method_not_allowed("GET, HEAD");
  }
  auth::Decision decision = gate.check(request);
  if (waits_for_keys(decision, keys_wait)) return {};
  if (decided != nullptr) *decided = decision.stats();
  if (!decision.allowed) {
    if (query_param(query, "redirect") == "1") {
      if (auto location =
              sign_in_redirect_for(vp, request, decision.reason, forwarded_original_url(request))) {
        return {302, {{"Location", std::move(*location)}, {"Cache-Control", "no-store"}}, ""};
      }
    }
    decision.refusal.headers.emplace_back("Cache-Control", "no-store");
    return std::move(decision.refusal);
  }
  // What the proxy in front passes upstream: the identity and forwarded claims the gate
  // decided (never a value the client sent). The client's Authorization is its own to pass.
  Answer reply{200, {}, {}};
  for (auto& [name, value] : decision.upstream_headers) {
    if (!iequals(name, "Authorization")) reply.headers.emplace_back(name, std::move(value));
  }
  if (decision.set_cookie) reply.headers.emplace_back("Set-Cookie", *decision.set_cookie);
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

// host[:port]: a DNS name or IPv4 address (letters, digits, '.', '-', '_', '~'), or an IPv6
// literal in brackets; then digits for the port.
bool is_host_and_port(std::string_view authority) {
  std::string_view rest = authority;
  if (rest.starts_with('[')) {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : rest.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    rest.remove_prefix(close + 1);
  } else {
    const std::string_view name = rest.substr(0, rest.find(':'));
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
                 c == '~';
        })) {
      return false;
    }
    rest.remove_prefix(name.size());
  }
  if (rest.empty()) return true;
  const std::string_view port = rest.substr(1);
  return rest[0] == ':' && !port.empty() && port.size() <= 5 &&
         std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// scheme://host[:port]/path?query for http(s), the path in origin form: one leading '/', nothing
// that could end the header, name another host or be read two ways.
std::optional<std::string> url_of(std::string_view scheme, std::string_view authority,
                                  std::string_view path) {
  if ((scheme != "http" && scheme != "https") || !is_host_and_port(authority) ||
      !path.starts_with('/') || path.starts_with("//") || has_control(path) ||
      path.find_first_of(" \\") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(scheme) + "://" + std::string(authority) + std::string(path);
}

}  // namespace

std::optional<std::string_view> auth_endpoint_of(std::string_view rest, std::string_view endpoint) {
  if (rest.size() < endpoint.size() + 1 || rest[0] != '/' ||
      rest.substr(1, endpoint.size()) != endpoint) {
    return std::nullopt;
  }
  std::string_view after = rest.substr(1 + endpoint.size());
  if (after.empty()) return after;
  if (after[0] != '/') return std::nullopt;  // "/.authx" is an ordinary path
  return after.substr(1);
}

Answer serve_auth_endpoint(auth::Gate& gate, const auth::RequestView& request,
                           std::string_view name, std::string_view query, std::string_view form,
                           const config::VirtualProxy& vp,
                           std::optional<auth::DecisionStats>* decided,
                           std::optional<auth::KeysWait>* keys_wait) {
  if (name == "me") {
    if (request.method() != "GET" && request.method() != "HEAD") {
      return method_not_allowed("GET, HEAD");
    }
    return me(gate, request, vp);
  }
  if (name == "logout") return logout(gate, request, query, vp);
  if (name == "session") return session(gate, request, query, form, vp, decided, keys_wait);
  // Envoy's ext_authz appends the original path to its path_prefix: verify/<that path>.
  if (name == "verify" || name.starts_with("verify/")) {
    return verify(gate, request, query, vp, decided, keys_wait);
  }
  return plain(404, "Not Found: no such endpoint (" + vp.auth.endpoint + "/session, " +
                        vp.auth.endpoint + "/me, " + vp.auth.endpoint + "/logout, " +
                        vp.auth.endpoint + "/verify)");
}

std::optional<std::string> return_target(std::string_view encoded,
                                         const std::vector<std::string>& allowed_origins,
                                         std::string_view request_origin) {
  auto target = form_decode(encoded);
  if (!target) return std::nullopt;
  if (target->empty() || has_control(*target) ||
      target->find_first_of(" \\") != std::string::npos) {
    return std::nullopt;
  }
  if ((*target)[0] == '/') {
    if (target->starts_with("//")) return std::nullopt;  // "//host": another host
    return target;
  }
  // An absolute URL: its origin (scheme://authority, up to the first / ? or #) must be one of
  // the allowed ones, exactly ("https://app.test@evil.test" has another authority).
  const std::size_t scheme_end = target->find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::size_t authority_end = target->find_first_of("/?#", scheme_end + 3);
  const std::string_view origin = std::string_view(*target).substr(0, authority_end);
  if ((request_origin.empty() || origin != request_origin) &&
      std::find(allowed_origins.begin(), allowed_origins.end(), origin) == allowed_origins.end()) {
    return std::nullopt;
  }
  return target;
}

std::string own_origin(const auth::RequestView& request) {
  auto host = request.header("Host");
  // A Host that is not a plain authority names no origin we would match.
  if (!host || host->empty() || host->find_first_of("/\\@?#% \t") != std::string_view::npos) {
    return {};
  }
  return (request.is_tls() ? "https://" : "http://") + std::string(*host);
}

std::optional<Answer> redeem_ticket(auth::Gate& gate, const auth::RequestView& request,
                                    std::string_view path, std::string_view query,
                                    std::optional<auth::DecisionStats>* decided) {
  auto ticket = query_param(query, kTicketParameter);
  if (!ticket) return std::nullopt;
  if (request.method() != "GET" && request.method() != "HEAD") {
    return plain(400, "Bad Request: a ticket (" + std::string(kTicketParameter) +
                          ") is redeemed by opening the URL with GET");
  }
  auth::Decision decision = gate.redeem_ticket(request, *ticket);
  if (decided != nullptr) *decided = decision.stats();
  if (!decision.allowed) {
    return Answer{decision.refusal.status, std::move(decision.refusal.headers),
                  std::move(decision.refusal.body)};
  }
  // The same path ("//x" would name another host: one leading slash) and the query without
  // any ticket parameter.
  std::string location = "/";
  location.append(path.substr(std::min(path.find_first_not_of('/'), path.size())));
  std::string rest;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) != kTicketParameter && !pair.empty()) {
      rest.append(rest.empty() ? "" : "&").append(pair);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (!rest.empty()) location.append("?").append(rest);
  Answer reply{303, {}, {}};
  if (decision.set_cookie) reply.headers.emplace_back("Set-Cookie", *decision.set_cookie);
  reply.headers.emplace_back("Cache-Control", "no-store");
  reply.headers.emplace_back("Location", std::move(location));
  return reply;
}

namespace {

bool is_navigation(const auth::RequestView& request) {
  if (request.method() != "GET" || request.header("Upgrade")) return false;
  if (auto mode = request.header("Sec-Fetch-Mode")) return *mode == "navigate";
  auto accept = request.header("Accept");
  return accept && accept->find("text/html") != std::string_view::npos;
}

}  // namespace

std::optional<std::string> sign_in_redirect(const config::VirtualProxy& vp,
                                            const auth::RequestView& request, Reason reason,
                                            std::string_view target) {
  return sign_in_redirect_for(vp, request, reason, own_origin(request) + std::string(target));
}

std::optional<std::string> sign_in_redirect_for(const config::VirtualProxy& vp,
                                                const auth::RequestView& request, Reason reason,
                                                const std::optional<std::string>& url) {
  if (vp.auth.redirect_uri.empty() || !is_navigation(request)) return std::nullopt;
  if (reason != Reason::kNoCredentials && reason != Reason::kSessionExpired) return std::nullopt;
  const std::string& uri = vp.auth.redirect_uri;
  if (!url) return uri;
  const char joiner = uri.find('?') == std::string::npos ? '?' : '&';
  return uri + joiner + "returnTo=" + percent_encode(*url, is_unreserved);
}

std::optional<std::string> forwarded_original_url(const auth::RequestView& request) {
  if (!request.trusted_listener()) return std::nullopt;
  const auto proto = request.header("X-Forwarded-Proto");
  const auto host = request.header("X-Forwarded-Host");
  const auto uri = request.header("X-Forwarded-Uri");
  if (proto || host || uri) {
    if (!proto || !host) return std::nullopt;
    return url_of(*proto, *host, uri.value_or("/"));
  }
  const auto original = request.header("X-Original-URL");
  if (!original) return std::nullopt;
  const std::size_t scheme_end = original->find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view rest = original->substr(scheme_end + 3);
  const std::size_t path_start = std::min(rest.find('/'), rest.size());
  const std::string_view path = rest.substr(path_start);
  return url_of(original->substr(0, scheme_end), rest.substr(0, path_start),
                path.empty() ? "/" : path);
}

}  // namespace jotgate::proxy
