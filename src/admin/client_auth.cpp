#include "admin/client_auth.h"

#include <fstream>
#include <sstream>

#include <openssl/sha.h>

#include "base/secret.h"

namespace jotgate::admin {

namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

std::string_view as_view(const std::array<unsigned char, 32>& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

// The token of "Bearer <token>" (scheme case-insensitive); nullopt for any other form.
std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

}  // namespace

Result<ClientAuth> ClientAuth::create(const config::AdminSettings& settings) {
  ClientAuth auth;
  if (settings.token_file.empty()) return auth;
  std::ifstream in(settings.token_file, std::ios::binary);
  if (!in) {
    return make_error(Reason::kFileUnreadable,
                      "admin.token_file: " + settings.token_file + ": cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) {
    return make_error(Reason::kFileUnreadable,
                      "admin.token_file: " + settings.token_file + ": is empty (it must hold the "
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
    auto token = bearer_token(*authorization);
    // Digests have one length whatever was sent, so the comparison time says nothing about
    // the token.
    if (token && token_digest_ &&
        constant_time_equal(as_view(sha256(*token)), as_view(*token_digest_))) {
      return admitted_as("token");
    }
    return refused(401, "INVALID_TOKEN", "the bearer token is not the admin token");
  }
  if (certificate.state == PresentedCertificate::State::kUntrusted) {
    return refused(403, "CERTIFICATE_UNTRUSTED",
                  "client certificate not signed by the admin CA");
  }
  return refused(401, "NO_CREDENTIALS",
                "a client certificate signed by the admin CA or the admin bearer token is "
                "required");
}

}  // namespace jotgate::admin
