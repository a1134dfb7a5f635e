#include "jose/algorithm.h"

#include <array>
#include <utility>

namespace jotgate::jose {

namespace {

constexpr std::array<std::pair<std::string_view, Algorithm>, 14> kNames = {{
    {"RS256", Algorithm::kRS256},
    {"RS384", Algorithm::kRS384},
    {"RS512", Algorithm::kRS512},
    {"PS256", Algorithm::kPS256},
    {"PS384", Algorithm::kPS384},
    {"PS512", Algorithm::kPS512},
    {"ES256", Algorithm::kES256},
    {"ES384", Algorithm::kES384},
    {"ES512", Algorithm::kES512},
    {"EdDSA", Algorithm::kEdDSA},
    {"Ed25519", Algorithm::kEd25519},
    {"HS256", Algorithm::kHS256},
    {"HS384", Algorithm::kHS384},
    {"HS512", Algorithm::kHS512},
}};

}  // namespace

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
  for (const auto& [text, alg] : kNames) {
    if (text == name) return alg;
  }
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm alg) {
  for (const auto& [text, known] : kNames) {
    if (known == alg) return text;
  }
  return "unknown";
}

KeyType key_type_for(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRS256:
    case Algorithm::kRS384:
    case Algorithm::kRS512:
    case Algorithm::kPS256:
    case Algorithm::kPS384:
    case Algorithm::kPS512: return KeyType::kRsa;
    case Algorithm::kES256:
    case Algorithm::kES384:
    case Algorithm::kES512: return KeyType::kEc;
    case Algorithm::kEdDSA:
    case Algorithm::kEd25519: return KeyType::kOkp;
    case Algorithm::kHS256:
    case Algorithm::kHS384:
    case Algorithm::kHS512: return KeyType::kOct;
  }
  return KeyType::kOct;
}

std::vector<Algorithm> default_algorithms() {
  return {Algorithm::kRS256, Algorithm::kRS384, Algorithm::kRS512};
}

}  // namespace jotgate::jose
