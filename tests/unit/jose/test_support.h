// Helpers shared by the JOSE unit tests: test data files and freshly generated keys.
//   auto text = read_data("keys/rsa_public.pem");
//   auto key = generate_signing_key(Algorithm::kES256);
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "jose/base64url.h"
#include "jose/jws.h"
#include "jose/key.h"

namespace jotgate::jose::testing {

inline std::string data_path(const std::string& relative) {
  return std::string(JOTGATE_TEST_DATA) + "/" + relative;
}

inline std::string read_data(const std::string& relative) {
  std::ifstream in(data_path(relative), std::ios::binary);
  EXPECT_TRUE(in) << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline nlohmann::json read_json(const std::string& relative) {
  return nlohmann::json::parse(read_data(relative));
}

// The PEM private key in tests/data/keys that signs `alg` (HS*: the shared secret).
inline Key signing_key_for(Algorithm alg) {
  switch (key_type_for(alg)) {
    case KeyType::kRsa: return *load_signing_key(data_path("keys/rsa_private.pem"));
    case KeyType::kOkp: return *load_signing_key(data_path("keys/ed25519_private.pem"));
    case KeyType::kOct: return *load_shared_secret(data_path("keys/hmac_secret.txt"));
    case KeyType::kEc: break;
  }
  const char* file = alg == Algorithm::kES256   ? "keys/ec_p256_private.pem"
                     : alg == Algorithm::kES384 ? "keys/ec_p384_private.pem"
                                                : "keys/ec_p521_private.pem";
  return *load_signing_key(data_path(file));
}

// The matching verification keys (public only; HS*: the same secret).
inline KeySet verification_keys_for(Algorithm alg) {
  switch (key_type_for(alg)) {
    case KeyType::kRsa: return *load_verification_keys(data_path("keys/rsa_public.pem"));
    case KeyType::kOkp: return *load_verification_keys(data_path("keys/ed25519_public.pem"));
    case KeyType::kOct: return KeySet({*load_shared_secret(data_path("keys/hmac_secret.txt"))});
    case KeyType::kEc: break;
  }
  const char* file = alg == Algorithm::kES256   ? "keys/ec_p256_public.pem"
                     : alg == Algorithm::kES384 ? "keys/ec_p384_public.pem"
                                                : "keys/ec_p521_public.pem";
  return *load_verification_keys(data_path(file));
}

inline std::string header_for(Algorithm alg) {
  return R"({"alg":")" + std::string(algorithm_name(alg)) + R"(","typ":"JWT"})";
}

// A compact token from raw header and payload texts with an arbitrary signature part.
inline std::string assemble(std::string_view header, std::string_view payload,
                            std::string_view signature = "sig") {
  return base64url_encode(header) + "." + base64url_encode(payload) + "." +
         base64url_encode(signature);
}

inline const std::vector<Algorithm>& all_algorithms() {
  static const std::vector<Algorithm> algs = {
      Algorithm::kRS256, Algorithm::kRS384, Algorithm::kRS512,   Algorithm::kPS256,
      Algorithm::kPS384, Algorithm::kPS512, Algorithm::kES256,   Algorithm::kES384,
      Algorithm::kES512, Algorithm::kEdDSA, Algorithm::kEd25519, Algorithm::kHS256,
      Algorithm::kHS384, Algorithm::kHS512};
  return algs;
}

}  // namespace jotgate::jose::testing
