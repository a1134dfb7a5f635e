#include "pki/handshake_problem.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace jotgate::pki {

std::string handshake_problem(SSL* tls, unsigned long openssl_error,
                              std::string_view error_message) {
  const long verify = SSL_get_verify_result(tls);
  if (verify != X509_V_OK) {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  // A name that does not match fails verification without a chain error.
  if (ERR_GET_REASON(openssl_error) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return "certificate verify failed: the certificate does not name the host";
  }
  return "TLS handshake failed: " + std::string(error_message);
}

}  // namespace jotgate::pki
