// Why a client's TLS handshake failed, in OpenSSL's words: a refused chain reads
// "certificate verify failed: unable to get local issuer certificate", a certificate for another
// name "certificate verify failed: the certificate does not name the host". Every TLS client of
// the gateway (key fetches, the Redis client) says it the same way.
//   if (handshake_ec)
//     why = handshake_problem(stream.native_handle(), handshake_ec.value(),
//     handshake_ec.message());
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

namespace jotgate::pki {

// `openssl_error` and `error_message` are the handshake's error code (Asio's SSL category
// carries OpenSSL's packed error) and its text.
std::string handshake_problem(SSL* tls, unsigned long openssl_error,
                              std::string_view error_message);

}  // namespace jotgate::pki
