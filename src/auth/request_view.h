// RequestView: what the gate and the authenticators see of an HTTP request, without sockets or
// Beast, so auth compiles fast and its tests build requests from a map.
//   std::optional<std::string_view> user = request.header("X-Sso-User");
//   if (!request.trusted_listener()) refuse();
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/log_line.h"

namespace jotgate::auth {

class RequestView {
 public:
  virtual ~RequestView() = default;
  virtual std::string_view method() const = 0;
  // The first value of a header, names compared case-insensitively.
  virtual std::optional<std::string_view> header(std::string_view name) const = 0;
  // Every value of a header (e.g. several Cookie lines).
  virtual std::vector<std::string_view> headers(std::string_view name) const = 0;
  // True when the connection is TLS (decides "secure: auto" cookies).
  virtual bool is_tls() const = 0;
  // True on a listener marked trusted (auth.method header is accepted only there).
  virtual bool trusted_listener() const { return false; }
  // The peer's IP address (audit lines of refused credentials); "" when unknown.
  virtual std::string_view client_ip() const { return {}; }
  // The request id and trace id the proxy gave the request (its audit lines carry them).
  virtual RequestIds ids() const { return {}; }
  // Whether a token whose kid is unknown may ask its identity provider's keys again and wait
  // (Reason::kKeysRefreshing); false when the request was decided again after such a wait.
  virtual bool may_refetch_keys() const { return false; }
  // Whether a session, ticket or seat that a shared store must be asked for may make the
  // request wait (Reason::kStorePending); false: answer SESSION_STORE_UNAVAILABLE instead.
  virtual bool may_wait_for_store() const { return false; }
};

}  // namespace jotgate::auth
