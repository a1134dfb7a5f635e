// Development PKI: everything a first run needs, generated locally with OpenSSL, all PEM.
// A self-signed CA; a TLS server certificate signed by it; a token-signing key pair with its
// certificate (the original system's way: the gateway verifies tokens against signer.pem).
//   auto files = generate_bundle({.out_dir = "certs", .common_name = "localhost"});
//   if (!files) print(files.error().message());
#pragma once

#include <string>

#include "base/result.h"

namespace jotgate::pki {

struct BundleOptions {
  std::string out_dir;
  std::string common_name = "localhost";  // server certificate CN, also a DNS SAN
  int days = 365;
  bool force = false;  // overwrite existing files; otherwise an existing file is an error
};

// Absolute paths of what generate_bundle wrote. Private keys are written with mode 0600.
struct BundleFiles {
  std::string ca_cert;      // ca.pem
  std::string ca_key;       // ca_key.pem
  std::string server_cert;  // server.pem   (SAN: common_name, localhost, 127.0.0.1, ::1)
  std::string server_key;   // server_key.pem
  std::string signer_cert;  // signer.pem   (verifies tokens)
  std::string signer_key;   // signer_key.pem (signs tokens; RSA 2048, for RS256)
};

// Never overwrites an existing file unless options.force; checks all six names before writing
// any, so a refusal leaves the folder as it was.
Result<BundleFiles> generate_bundle(const BundleOptions& options);

// A self-signed TLS certificate and key (for a listener whose files are missing): EC P-256, the
// same names as server.pem, and marked as its own CA so a client can trust the file itself.
// Refuses (kFileExists) when either file exists; the key is created with mode 0600.
Result<void> generate_self_signed_tls(const std::string& cert_path, const std::string& key_path,
                                      const std::string& common_name, int days);

}  // namespace jotgate::pki
