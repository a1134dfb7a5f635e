// Keys for signing and verifying JWS, loaded once at start-up and shared read-only.
// A Key is an OpenSSL key (RSA, EC P-256/384/521, Ed25519) or an HMAC secret, with the JWK
// metadata (kid, alg, use) that selects it.
//   auto keys = load_verification_keys("signer.pem");  // certificate, public key or JWKS
//   auto signer = load_signing_key("signer_key.pem");  // PEM private key or private JWK
//   auto hmac = load_shared_secret("secret.bin");      // HS* only, never by default
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "jose/algorithm.h"

namespace jotgate::jose {

class Key {
 public:
  // Opaque OpenSSL key; the implementation owns it.
  struct Material;

  Key(std::shared_ptr<const Material> material, KeyType type);

  KeyType type() const { return type_; }
  // For EC keys: the curve's algorithm (ES256 for P-256...). For RSA: minimum bits are checked
  // at load. Returns whether `alg` can be used with this key at all.
  bool fits(Algorithm alg) const;
  bool has_private_part() const;
  const Material& material() const { return *material_; }

  // JWK metadata; empty when the source (PEM) has none.
  std::string kid;
  std::optional<Algorithm> alg;  // "alg" of a JWK: the key is only used with it
  std::string use;               // "use" of a JWK: "sig" or empty to be usable

 private:
  std::shared_ptr<const Material> material_;
  KeyType type_;
};

// The keys one verifier may use. Selection: when the token's `kid` names keys of the set, only
// those; otherwise (no kid, or a kid the set does not know) the keys without a kid (PEM keys).
// Of these, every key whose type/curve, `alg` and `use` fit the token's algorithm is tried.
class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(std::vector<Key> keys) : keys_(std::move(keys)) {}

  const std::vector<Key>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  // The same keys in the same order, with the same kid, alg and use (a reload that re-read an
  // unchanged key file keeps what was verified with it).
  bool same_as(const KeySet& other) const;
  // Candidates for a token with this alg and optional kid, in file order.
  std::vector<const Key*> candidates(Algorithm alg, std::string_view kid) const;

 private:
  std::vector<Key> keys_;
};

// Parses verification keys from text: a PEM X.509 certificate (the original system's way), a
// PEM public key (SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"), or a JWKS / single JWK JSON.
// Private parts in a JWK are ignored for verification.
Result<KeySet> parse_verification_keys(std::string_view text);
// The same from a file; errors name the file.
Result<KeySet> load_verification_keys(const std::string& path);

// A signing key from PEM (PKCS#8, PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY") or from a
// JWK with private parts (including an "oct" key for HS*).
Result<Key> parse_signing_key(std::string_view text);
Result<Key> load_signing_key(const std::string& path);

// A shared secret for HS256/384/512: the file's bytes as they are (at least 32 bytes).
Result<Key> load_shared_secret(const std::string& path);
Key make_shared_secret(std::string_view bytes);

// Public JWK (JSON text) of a key, for publishing verification keys.
std::string public_jwk(const Key& key);

}  // namespace jotgate::jose
