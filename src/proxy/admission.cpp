#include "proxy/admission.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include "proxy/auth_endpoints.h"
#include "proxy/request_framing.h"

namespace jotgate::proxy {

namespace beast = boost::beast;

std::optional<std::string_view> HeadView::header(std::string_view name) const {
  auto it = head_.find(name);
  if (it == head_.end()) return std::nullopt;
  return it->value();
}

std::vector<std::string_view> HeadView::headers(std::string_view name) const {
  std::vector<std::string_view> values;
  auto range = head_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) values.push_back(it->value());
  return values;
}

namespace {

Admission answer(Reason reason, bool keep_alive, std::string detail = {}) {
  Admission out;
  out.answer = answer_for(make_error(reason, std::move(detail)));
  out.keep_alive = keep_alive;
  return out;
}

Admission answer(Answer reply, bool keep_alive) {
  Admission out;
  out.answer = std::move(reply);
  out.keep_alive = keep_alive;
  return out;
}

// What no virtual proxy needs to be known for: sizes, framing, the target, the route.
std::optional<Admission> check_head(const RequestHead& request, const RequestLimits& limits,
                                    bool can_keep, std::optional<RequestTarget>& target) {
  const http::request_header<>& head = request.header;
  if (request.target.size() + head.method_string().size() + 10 > limits.max_request_line) {
    return answer(Reason::kRequestLineTooLong, false);
  }
  std::size_t count = 0;
  for (auto it = head.begin(); it != head.end(); ++it) ++count;
  if (count > limits.max_header_count) return answer(Reason::kTooManyHeaders, false);
  // Framing an upstream could read otherwise (body length, host): answered, then closed.
  if (auto problem = check_request_head(head)) {
    return answer(problem->reason, false, std::string(problem->detail));
  }
  auto parsed = parse_request_target(request.target);
  if (!parsed) return answer(Reason::kBadRequest, can_keep, parsed.error().detail);
  target = *parsed;
  return std::nullopt;
}

// host_allow_list: the Host, and a WebSocket's Origin, must be among the names.
std::optional<Admission> check_host(const http::request_header<>& head,
                                    const VirtualProxyRuntime& vp, bool websocket, bool can_keep) {
  if (vp.host_allow_list.empty()) return std::nullopt;
  auto host = head.find(http::field::host);
  if (host == head.end() || host->value().empty()) return answer(Reason::kHostMissing, can_keep);
  if (!host_allowed(vp.host_allow_list, host->value())) {
    return answer(Reason::kHostNotAllowed, can_keep);
  }
  auto origin = head.find(http::field::origin);
  if (websocket && origin != head.end() &&
      !host_allowed(vp.host_allow_list, origin_authority(origin->value()))) {
    return answer(Reason::kOriginNotAllowed, can_keep);
  }
  return std::nullopt;
}

}  // namespace

void count_decision(metrics::VirtualProxyMetrics& counters, std::size_t worker,
                    const auth::DecisionStats& decided) {
  if (decided.allowed) {
    counters.count_accepted(worker, decided.signed_in_by);
  } else {
    counters.count_rejected(worker, decided.reason);
  }
  if (decided.token_cache != auth::TokenCacheLookup::kNone) {
    counters.count_token_cache(worker, decided.token_cache == auth::TokenCacheLookup::kHit);
  }
  if (decided.session_created) counters.count_session_created(worker);
}

Admission admit(const RequestHead& request, const ClientInfo& client,
                const ListenerRuntime& listener, const Runtime& runtime) {
  const http::request_header<>& head = request.header;
  // An answer before the body was read must close the connection: the body is unread.
  const bool can_keep = request.keep_alive && !request.body_pending;
  std::optional<RequestTarget> target;
  if (auto refused = check_head(request, runtime.limits, can_keep, target)) return *refused;
  auto match = listener.routes.match(target->path);
  if (!match) return answer(Reason::kRouteNotFound, can_keep);
  const VirtualProxyRuntime& vp = runtime.virtual_proxies[match->virtual_proxy_index];
  const bool may_wait = request.store_waits_left > 0;
  const HeadView view(head, client, listener.config.trusted, request.identity, false, may_wait);

  Admission out = [&]() -> Admission {
    const bool websocket = is_websocket_upgrade(head);
    if (auto refused = check_host(head, vp, websocket, can_keep)) return *refused;

    // A shared session store: the session the cookie names is read first, without holding the
    // thread; every answer below then sees it.
    if (may_wait) {
      if (auto pending = vp.gate->prefetch_session(view)) {
        Admission wait;
        wait.action = Admission::kWaitForStore;
        wait.store_wait = std::move(pending);
        return wait;
      }
    }

    // CORS: an allowed origin gets its headers on every answer; preflights end here.
    std::string cors_origin;
    const std::optional<std::string_view> origin = view.header("Origin");
    if (auto allowed = vp.cors.allowed(origin)) cors_origin.assign(*allowed);
    if (vp.cors.enabled() && head.method() == http::verb::options) {
      if (auto method = view.header("Access-Control-Request-Method")) {
        // The preflight answer carries its own CORS headers.
        return answer(vp.cors.preflight(origin, *method,
                                        view.header("Access-Control-Request-Headers").value_or("")),
                      can_keep);
      }
    }

    // The gateway's own endpoints (.auth/session, me, logout): answered here, never forwarded.
    if (auto name = auth_endpoint_of(match->rest, vp.config.auth.endpoint)) {
      // Signing in or out from a page of another site: only the allowed origins (no login or
      // logout forced on a user by a foreign page).
      if (head.method() == http::verb::post && origin && cors_origin.empty()) {
        const std::string own = own_origin(view);
        if (own.empty() || !beast::iequals(*origin, own)) {
          return answer(Reason::kEndpointOriginNotAllowed, can_keep);
        }
      }
      Admission endpoint;
      endpoint.cors_origin = std::move(cors_origin);
      if (!request.body_pending) {
        // A sign-in here (verify, session with a bearer) may wait for its keys too.
        const HeadView sign_in_view(head, client, listener.config.trusted, request.identity,
                                    request.may_refetch_keys, may_wait);
        endpoint.answer =
            serve_auth_endpoint(*vp.gate, sign_in_view, *name, target->query, {}, vp.config,
                                &endpoint.gate_decision, &endpoint.keys_wait);
        if (endpoint.keys_wait) endpoint.action = Admission::kWaitForKeys;
        endpoint.keep_alive = can_keep;
        return endpoint;
      }
      // A form (POST .auth/session): small and sized, read whole; anything else is refused.
      if (!request.content_length || *request.content_length > kMaxFormBytes) {
        endpoint.answer = answer_for(make_error(Reason::kFormTooLarge));
        return endpoint;
      }
      endpoint.action = Admission::kReadForm;
      endpoint.match = *match;
      endpoint.target = *target;
      endpoint.endpoint = *name;
      return endpoint;
    }

    Admission out;
    out.cors_origin = std::move(cors_origin);
    // ?jotgateTicket=: traded for a session, then the same URL without it.
    if (auto reply =
            redeem_ticket(*vp.gate, view, target->path, target->query, &out.gate_decision)) {
      out.answer = std::move(*reply);
      out.keep_alive = can_keep;
      return out;
    }
    // A token whose kid is unknown: wait for its provider's keys, then decide again.
    const HeadView check_view(head, client, listener.config.trusted, request.identity,
                              request.may_refetch_keys, may_wait);
    auth::Decision decision = vp.gate->check(check_view);
    if (decision.keys_wait) {
      out.action = Admission::kWaitForKeys;
      out.keys_wait = std::move(decision.keys_wait);
      return out;
    }
    out.gate_decision = decision.stats();
    if (!decision.allowed) {
      // A browser without a session goes to the sign-in page, if there is one.
      if (auto location = sign_in_redirect(vp.config, view, decision.reason, request.target)) {
        out.answer =
            Answer{302, {{"Location", std::move(*location)}, {"Cache-Control", "no-store"}}, ""};
      } else {
        out.answer = std::move(decision.refusal);
      }
      out.keep_alive = can_keep;
      return out;
    }
    if (vp.upstreams.empty()) {
      out.answer = answer_for(make_error(Reason::kUpstreamUnavailable));
      out.keep_alive = can_keep;
      out.decision = std::move(decision);  // the access log names the user
      return out;
    }
    out.action = Admission::kForward;
    out.match = *match;
    out.target = *target;
    out.decision = std::move(decision);
    out.websocket = websocket;
    return out;
  }();
  out.vp = &vp;
  out.identity = request.identity;
  if (out.gate_decision) {
    // Not decided yet: the store is being asked (a ticket, a seat); the connection waits.
    if (out.gate_decision->store_wait) {
      out.action = Admission::kWaitForStore;
      out.store_wait = std::move(out.gate_decision->store_wait);
      out.gate_decision.reset();
    } else {
      out.store_commit = std::move(out.gate_decision->store_commit);
    }
  }
  return out;
}

Answer answer_form(const Admission& admission, const http::request_header<>& head,
                   std::string_view form, const ClientInfo& client, const ListenerRuntime& listener,
                   std::optional<auth::DecisionStats>* decided) {
  const VirtualProxyRuntime& vp = *admission.vp;
  const HeadView view(head, client, listener.config.trusted, admission.identity);
  return serve_auth_endpoint(*vp.gate, view, admission.endpoint, admission.target.query, form,
                             vp.config, decided);
}

}  // namespace jotgate::proxy
