// ClientAuth: who may call the admin API. A client proves itself with a TLS certificate signed
// by the admin CA (checked in the handshake; this sees the outcome) or with the admin bearer
// token, compared in constant time. Built once at start; the token file is read then.
//   auto auth = ClientAuth::create(settings);                  // Result<ClientAuth>
//   auto who = auth->check(certificate, request_authorization);
//   if (!who.admitted) answer(who.status, who.error, who.message);   // 401 / 403
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "base/secret.h"
#include "config/gateway_config.h"

namespace jotgate::admin {

// The client certificate as the TLS handshake left it.
struct PresentedCertificate {
  enum class State { kNone, kTrusted, kUntrusted };
  State state = State::kNone;
  std::string common_name;  // subject CN of a trusted certificate
};

struct ClientVerdict {
  bool admitted = false;
  std::string client;   // admitted: the certificate's CN, or "token"
  int status = 401;     // refused: 401 (no or wrong credentials) or 403 (untrusted certificate)
  std::string error;    // refused: a stable code, e.g. "INVALID_TOKEN"
  std::string message;  // refused: one sentence for the caller
};

inline ClientVerdict admitted_as(std::string client) {
  return ClientVerdict{true, std::move(client), 0, {}, {}};
}
inline ClientVerdict refused(int status, std::string error, std::string message) {
  return ClientVerdict{false, {}, status, std::move(error), std::move(message)};
}

class ClientAuth {
 public:
  // Reads settings.token_file (when set): its content, less a trailing newline, is the token;
  // an empty or unreadable file is an error naming it.
  static Result<ClientAuth> create(const config::AdminSettings& settings);

  // A trusted certificate admits; otherwise the Authorization header ("Bearer <token>") must
  // carry the admin token. A wrong token is 401, like no credentials; an untrusted certificate
  // without a token is 403.
  ClientVerdict check(const PresentedCertificate& certificate,
                      std::optional<std::string_view> authorization) const;

 private:
  std::optional<Sha256> token_digest_;  // SHA-256 of the token: compared, never the token
};

}  // namespace jotgate::admin
