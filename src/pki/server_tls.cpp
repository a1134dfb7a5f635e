#include "pki/server_tls.h"

#include <filesystem>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pki/bundle.h"

namespace jotgate::pki {

namespace {

// TLS 1.2 suites: ECDHE key exchange, AEAD ciphers (Mozilla's "intermediate" list without
// DHE). TLS 1.3 suites are all AEAD; OpenSSL's defaults stay.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Error file_error(const std::string& path) {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  ERR_clear_error();
  return make_error(Reason::kFileUnreadable,
                    path + ": " + (reason != nullptr ? reason : "cannot be loaded"));
}

}  // namespace

void SslContextFree::operator()(SSL_CTX* context) const { SSL_CTX_free(context); }

Result<ServerTls> server_tls_context(const std::string& certificate, const std::string& key,
                                     bool generate_if_missing, bool tls13_only) {
  namespace fs = std::filesystem;
  ServerTls tls;
  std::error_code ec;  // a name the system refuses counts as missing (then fails to write)
  if (generate_if_missing && !fs::exists(certificate, ec) && !fs::exists(key, ec)) {
    auto generated = generate_self_signed_tls(certificate, key, "localhost", 365);
    if (!generated) return generated.error();
    tls.generated = true;
  }
  tls.context.reset(SSL_CTX_new(TLS_server_method()));
  if (!tls.context) return make_error(Reason::kKeyInvalid, "cannot create a TLS context");
  SSL_CTX* context = tls.context.get();
  SSL_CTX_set_options(context, SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE);
  SSL_CTX_set_min_proto_version(context, tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) {
    return make_error(Reason::kKeyInvalid, "OpenSSL offers none of the TLS 1.2 AEAD suites");
  }
  // Idle connections give their TLS read and write buffers back (about 34 KiB each).
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(context, certificate.c_str()) != 1) {
    return file_error(certificate);
  }
  if (SSL_CTX_use_PrivateKey_file(context, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return file_error(key);
  }
  return tls;
}

}  // namespace jotgate::pki
