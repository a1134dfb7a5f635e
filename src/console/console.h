// Console: what the admin listener answers under /console: the single page and its files (compiled
// into the binary), sign-in with the admin token or a trusted client certificate, the session
// cookie, sign-out; and, for /api/v1, the administrator a console session cookie stands for and
// its CSRF check. Every answer carries the console's security headers (CSP without inline script,
// no framing, no caching). No sockets: the admin server hands it what it read.
//   Console console(clock);
//   if (Console::is_console_path(target)) return console.handle(request);
//   if (auto admin = console.session_admin(cookie_headers)) ... console.csrf_accepted(...)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/failure_limiter.h"
#include "base/answer.h"
#include "base/clock.h"
#include "console/console_sessions.h"

namespace jotgate::console {

inline constexpr std::string_view kCookieName = "__Host-jotgate-console";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// Who sign-in credentials prove: the admin token given in the body (or none: a trusted client
// certificate alone) -> the administrator's audit name ("token", the certificate's CN), or
// nullopt when they prove nobody. The admin server checks them with its ClientAuth.
using Authenticate = std::function<std::optional<std::string>(std::optional<std::string_view>)>;

struct ConsoleRequest {
  std::string_view method;
  std::string_view target;  // "/console/..." with any query
  std::optional<std::string_view> content_type;
  std::string_view body;
  bool body_too_large = false;  // the server stopped reading it
  std::vector<std::string_view> cookie_headers;
  std::optional<std::string_view> csrf_token;     // X-CSRF-Token
  std::optional<std::string_view> if_none_match;  // for the files
  std::string_view client_address;                // for the failure limit and the audit
  Authenticate authenticate;
};

class Console {
 public:
  // Failed sign-ins per client address: a burst of 10, then one each 6 s.
  static constexpr config::FailureLimit kSignInLimit{.failures = 10, .window_seconds = 60};

  explicit Console(const Clock& clock, std::size_t max_sessions = ConsoleSessions::kMaxSessions);

  static bool is_console_path(std::string_view target);
  Answer handle(const ConsoleRequest& request);

  // The administrator of the live console session named in the Cookie headers (its idle time
  // restarted), or nullopt.
  std::optional<std::string> session_admin(const std::vector<std::string_view>& cookie_headers);
  // True when `csrf_token` is the CSRF token of that session.
  bool csrf_accepted(const std::vector<std::string_view>& cookie_headers,
                     std::optional<std::string_view> csrf_token) const;

 private:
  Answer sign_in(const ConsoleRequest& request);
  Answer session_answer(const ConsoleRequest& request);
  Answer sign_out(const ConsoleRequest& request);

  const Clock& clock_;
  ConsoleSessions sessions_;
  auth::FailureLimiter sign_in_failures_;
};

// The answer 403 CSRF_REJECTED in the admin API's error form, with `message`.
Answer csrf_rejected(std::string_view message);
// Adds the console's security headers (Content-Security-Policy, X-Frame-Options, ...).
void add_security_headers(Answer& answer);

}  // namespace jotgate::console
