#include "pki/server_tls.h"

#include <filesystem>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pki/bundle.h"

namespace jotgate::pki {

namespace {

Error file_error(const std::string& path) {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  ERR_clear_error();
  return make_error(Reason::kFileUnreadable,
                    path + ": " + (reason != nullptr ? reason : "cannot be loaded"));
}

}  // namespace

void SslContextFree::operator()(SSL_CTX* context) const { SSL_CTX_free(context); }

Result<ServerTls> server_tls_context(const std::string& certificate, const std::string& key,
                                     bool generate_if_missing) {
  namespace fs = std::filesystem;
  ServerTls tls;
  if (generate_if_missing && !fs::exists(certificate) && !fs::exists(key)) {
    auto generated = generate_self_signed_tls(certificate, key, "localhost", 365);
    if (!generated) return generated.error();
    tls.generated = true;
  }
  tls.context.reset(SSL_CTX_new(TLS_server_method()));
  if (!tls.context) return make_error(Reason::kKeyInvalid, "cannot create a TLS context");
  SSL_CTX* context = tls.context.get();
  SSL_CTX_set_options(context, SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE);
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(context, certificate.c_str()) != 1) {
    return file_error(certificate);
  }
  if (SSL_CTX_use_PrivateKey_file(context, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return file_error(key);
  }
  return tls;
}

}  // namespace jotgate::pki
