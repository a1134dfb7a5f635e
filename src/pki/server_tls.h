// The TLS server context of a listener (the gateway's and the admin listener's): TLS 1.2 or
// later on a certificate chain and key, generating a self-signed pair first when asked and both
// files are missing. One function, so every listener is set up the same way.
//   auto tls = server_tls_context(cert, key, /*generate_if_missing=*/true);
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
                                     bool generate_if_missing);

}  // namespace jotgate::pki
