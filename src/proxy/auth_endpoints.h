// The gateway's own endpoints of a virtual proxy, under /<prefix>/<endpoint>/ (".auth" unless
// configured): answered here from the gate's sessions, never forwarded upstream.
//   POST .auth/session  signs in with a token (Authorization: Bearer, or form field token):
//                       the session cookie, then 204, or 303 to returnTo (a path on this host
//                       or a URL of an allowed origin).
//   GET  .auth/me       the live session's user, forwarded claims and expiry as JSON; 401 without
//                       one. Looking does not count as use, so polling never keeps it alive.
//   POST .auth/logout   ends the session, expires the cookie; 303 to logout_redirect_uri or 204.
//   GET  .auth/logout?returnTo=...  the same, then 303 there (same rule as for session).
//   GET|HEAD .auth/verify  forward authentication (docs/forward-auth.md): the request signed in
//                       as a proxied one would be (cookie, bearer; never a ticket); 200 with the
//                       identity and forward_claims headers (and Set-Cookie), else its refusal.
//                       ?redirect=1: a navigation without a session gets 302 to auth.redirect_uri
//                       with returnTo=<the original URL> (see forwarded_original_url).
//   if (auto name = auth_endpoint_of(match.rest, vp.auth.endpoint))
//     Answer reply = serve_auth_endpoint(gate, view, *name, target.query, form, vp);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/gate.h"
#include "base/answer.h"
#include "config/gateway_config.h"

namespace jotgate::proxy {

// The endpoint name when `rest` (the path after the prefix) is under /<endpoint>/: "me" for
// "/.auth/me", "" for "/.auth" or "/.auth/"; nullopt for any other path.
std::optional<std::string_view> auth_endpoint_of(std::string_view rest, std::string_view endpoint);

// `form`: the request body of a POST .auth/session (at most kMaxFormBytes), else "".
// `decided` (if given): how the gate decided, when a sign-in asked it.
// `keys_wait` (if given, with a request that may refetch keys): set, and the answer empty, when
// the token's kid is unknown and its keys are being fetched again; the caller waits for them
// and asks once more (as for a proxied request).
Answer serve_auth_endpoint(auth::Gate& gate, const auth::RequestView& request,
                           std::string_view name, std::string_view query, std::string_view form,
                           const config::VirtualProxy& vp,
                           std::optional<auth::DecisionStats>* decided = nullptr,
                           std::optional<auth::KeysWait>* keys_wait = nullptr);
inline constexpr std::size_t kMaxFormBytes = 32 * 1024;  // a 16 KiB token fits, encoded

// A returnTo value (percent-encoded, from a query or form), decoded, when it is a path on this
// host, a URL of `request_origin` (the request's scheme://Host) or of one of `allowed_origins`
// (cors.allowed_origins); nullopt for anything else: another host ("//evil", "https://evil",
// "https://app.test@evil"), backslashes, controls.
std::optional<std::string> return_target(std::string_view encoded,
                                         const std::vector<std::string>& allowed_origins,
                                         std::string_view request_origin = {});

// "scheme://host" of the request as its client addressed it (TLS or not, Host header); "" when
// it has no usable Host.
std::string own_origin(const auth::RequestView& request);

// The query parameter that carries a ticket of the admin API.
inline constexpr std::string_view kTicketParameter = "jotgateTicket";

// A request whose query carries ?jotgateTicket=: the ticket traded for a session, then 303 to
// the same path and query without it (the ticket never goes upstream, nor stays in the address
// bar, the history or a Referer). nullopt when the query has no ticket.
// `decided` as for serve_auth_endpoint.
std::optional<Answer> redeem_ticket(auth::Gate& gate, const auth::RequestView& request,
                                    std::string_view path, std::string_view query,
                                    std::optional<auth::DecisionStats>* decided = nullptr);

// The URL a proxy in front asks .auth/verify about: X-Forwarded-Proto + X-Forwarded-Host +
// X-Forwarded-Uri (Traefik, Caddy; Uri defaults to "/"), else X-Original-URL (nginx). Read only
// on a listener marked trusted (anyone can send these headers to the others); nullopt there,
// and for values that are not an http(s) URL with a plain host[:port] and a path ("//evil",
// CR/LF, spaces, backslashes, userinfo). When any X-Forwarded-* is present, X-Original-URL is
// not looked at: Traefik and Caddy set the former and pass a client's X-Original-URL on.
std::optional<std::string> forwarded_original_url(const auth::RequestView& request);

// auth.redirect_uri: where a browser navigation (GET taking text/html, or Sec-Fetch-Mode:
// navigate; never a WebSocket upgrade) refused for want of a session is sent, with
// returnTo=<the URL it asked for>. nullopt: answer the refusal as it is.
std::optional<std::string> sign_in_redirect(const config::VirtualProxy& vp,
                                            const auth::RequestView& request, Reason reason,
                                            std::string_view target);
// The same for a URL another proxy was asked for (.auth/verify?redirect=1); without one (not
// known, or not trusted), redirect_uri alone.
std::optional<std::string> sign_in_redirect_for(const config::VirtualProxy& vp,
                                                const auth::RequestView& request, Reason reason,
                                                const std::optional<std::string>& url);

}  // namespace jotgate::proxy
