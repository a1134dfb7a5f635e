// The TLS server context of a listener (the gateway's and the admin listener's) on a
// certificate chain and key, generating a self-signed pair first when asked and both files are
// missing. TLS 1.3, and TLS 1.2 with forward secrecy and AEAD suites only (ECDHE with AES-GCM or
// ChaCha20-Poly1305; no CBC, no RSA key exchange) unless `tls13_only`. One function, so every
// listener is set up the same way.
//   auto tls = server_tls_context(cert, key, /*generate_if_missing=*/true, /*tls13_only=*/false);
//   if (tls && tls->generated) log("generated " + cert);
//   asio::ssl::context context(tls->context.release());   // takes ownership
#pragma once

#include <memory>
#include <string>

#include <openssl/types.h>

#include "base/result.h"

namespace jotgate::pki {

struct SslContextFree {
  void operator()(SSL_CTX* context) const;
};
using SslContext = std::unique_ptr<SSL_CTX, SslContextFree>;

struct ServerTls {
  SslContext context;
  bool generated = false;  // a self-signed pair was written to the two paths
};

// Errors (kFileUnreadable) name the file and OpenSSL's reason.
Result<ServerTls> server_tls_context(const std::string& certificate, const std::string& key,
                                     bool generate_if_missing, bool tls13_only);

}  // namespace jotgate::pki
