// Key::Material: the parsed OpenSSL key behind a jose::Key (internal to src/jose).
// Parsed once at load; verify and sign only read it, so one Key serves all threads.
//   const auto& m = key.material();
//   if (m.pkey) EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, m.pkey.get());
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <openssl/evp.h>

#include "jose/algorithm.h"
#include "jose/key.h"

namespace jotgate::jose {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
struct EvpMdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
using EvpMdPtr = std::unique_ptr<EVP_MD, EvpMdFree>;
struct EvpPkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxFree>;

inline constexpr std::size_t kAlgorithmCount = static_cast<std::size_t>(Algorithm::kHS512) + 1;

struct Key::Material {
  EvpPkeyPtr pkey;                        // RSA, EC or Ed25519; null for an HMAC secret
  std::string secret;                     // HMAC secret bytes (oct keys only)
  std::optional<Algorithm> ec_algorithm;  // ES256/384/512 by curve, for EC keys
  bool has_private = false;
  // SHA-256/384/512 fetched once at load: OpenSSL 3 would otherwise look the digest up by name
  // on every verify. Fetched digests are immutable and safe to share between threads.
  EvpMdPtr sha256{EVP_MD_fetch(nullptr, "SHA256", nullptr)};
  EvpMdPtr sha384{EVP_MD_fetch(nullptr, "SHA384", nullptr)};
  EvpMdPtr sha512{EVP_MD_fetch(nullptr, "SHA512", nullptr)};
  // Per algorithm (RS*, PS*, ES*): a verify context initialised once with padding and digest.
  // verify() duplicates it instead of initialising a new one (a fetch and setup per token);
  // EVP_PKEY_CTX_dup only reads the template, so threads share it safely. Null: not prepared.
  std::array<EvpPkeyCtxPtr, kAlgorithmCount> verify_templates;
  // A process-unique number per prepared template: threads keep their own copy of a template
  // under this number (an address could be reused by a later key; a number never is).
  std::array<std::uint64_t, kAlgorithmCount> template_ids{};
};

// The key's digest for `alg` (nullptr for Ed25519 and unknown).
const EVP_MD* digest_for(Algorithm alg, const Key::Material& material);
// Prepares verify_templates for every algorithm the key can serve (called once at load).
void prepare_verify_templates(Key::Material& material, KeyType type);

// The key type and curve fit `alg` (JWK metadata aside).
bool material_fits(const Key& key, Algorithm alg);

}  // namespace jotgate::jose
