// Algorithm: the JWS algorithms jotgate signs and verifies (RFC 7518, RFC 8037, RFC 9864).
//   auto alg = algorithm_from_name("RS256");   // std::optional<Algorithm>
//   algorithm_name(*alg) -> "RS256";  key_type_for(*alg) -> KeyType::kRsa
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace jotgate::jose {

enum class Algorithm {
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kES512,
  kEdDSA,    // RFC 8037, Ed25519 keys only
  kEd25519,  // RFC 9864 fully-specified name for the same signature
  kHS256,
  kHS384,
  kHS512,
};

// The kind of key an algorithm needs; a token whose alg does not fit the key is refused.
enum class KeyType { kRsa, kEc, kOkp, kOct };

// Exact, case-sensitive names as in the JOSE registries. "none" (any case) is never an Algorithm.
std::optional<Algorithm> algorithm_from_name(std::string_view name);
std::string_view algorithm_name(Algorithm alg);
KeyType key_type_for(Algorithm alg);

// RS256, RS384, RS512: the original system's algorithms and jotgate's default.
std::vector<Algorithm> default_algorithms();

}  // namespace jotgate::jose
