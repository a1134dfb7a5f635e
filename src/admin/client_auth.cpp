#include "admin/client_auth.h"

#include "auth/credentials.h"
#include "base/file.h"
#include "base/secret.h"

namespace jotgate::admin {

namespace {

std::string_view as_view(const Sha256& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace

Result<ClientAuth> ClientAuth::create(const config::AdminSettings& settings) {
  ClientAuth auth;
  if (settings.token_file.empty()) return auth;
  auto text = read_file(settings.token_file);
  if (!text) {
    return make_error(Reason::kFileUnreadable,
                      "admin.token_file: " + settings.token_file + ": cannot be read");
  }
  std::string token = std::move(*text);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) {
    return make_error(Reason::kFileUnreadable, "admin.token_file: " + settings.token_file +
                                                   ": is empty (it must hold the "
                                                   "admin token)");
  }
  auth.token_digest_ = sha256(token);
  return auth;
}

ClientVerdict ClientAuth::check(const PresentedCertificate& certificate,
                                std::optional<std::string_view> authorization) const {
  if (certificate.state == PresentedCertificate::State::kTrusted) {
    return admitted_as(certificate.common_name.empty() ? "-" : certificate.common_name);
  }
  if (authorization) {
    auto token = auth::bearer_token(authorization);
    // Digests have one length whatever was sent, so the comparison time says nothing about
    // the token.
    if (token && token_digest_ &&
        constant_time_equal(as_view(sha256(*token)), as_view(*token_digest_))) {
      return admitted_as("token");
    }
    return refused(401, "INVALID_TOKEN", "the bearer token is not the admin token");
  }
  if (certificate.state == PresentedCertificate::State::kUntrusted) {
    return refused(403, "CERTIFICATE_UNTRUSTED", "client certificate not signed by the admin CA");
  }
  return refused(401, "NO_CREDENTIALS",
                 "a client certificate signed by the admin CA or the admin bearer token is "
                 "required");
}

}  // namespace jotgate::admin
