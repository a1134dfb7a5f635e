#include "jose/key.h"

#include <iterator>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "jose/base64url.h"
#include "jose/key_material.h"

namespace jotgate::jose {

namespace {

constexpr int kMinRsaBits = 2048;
constexpr std::size_t kMinSecretBytes = 32;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_clear_free(bn); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// Loading happens at start-up; leave no stale OpenSSL errors on this thread's queue.
Error key_error(Reason reason, std::string detail) {
  ERR_clear_error();
  return make_error(reason, std::move(detail));
}

// Checks the OpenSSL key is one jotgate supports and wraps it.
Result<Key> wrap_pkey(EvpPkeyPtr pkey, bool has_private) {
  auto material = std::make_shared<Key::Material>();
  material->has_private = has_private;
  KeyType type;
  const int id = EVP_PKEY_get_base_id(pkey.get());
  if (id == EVP_PKEY_RSA) {
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < kMinRsaBits) {
      return key_error(Reason::kKeyUnsupported,
                       "RSA key of " + std::to_string(bits) + " bits; at least 2048 are required");
    }
    type = KeyType::kRsa;
  } else if (id == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1) {
      return key_error(Reason::kKeyUnsupported, "EC key without a named curve");
    }
    const std::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256") {
      material->ec_algorithm = Algorithm::kES256;
    } else if (name == "secp384r1" || name == "P-384") {
      material->ec_algorithm = Algorithm::kES384;
    } else if (name == "secp521r1" || name == "P-521") {
      material->ec_algorithm = Algorithm::kES512;
    } else {
      return key_error(Reason::kKeyUnsupported,
                       "EC curve " + std::string(name) + "; P-256, P-384 or P-521 are supported");
    }
    type = KeyType::kEc;
  } else if (id == EVP_PKEY_ED25519) {
    type = KeyType::kOkp;
  } else {
    return key_error(Reason::kKeyUnsupported, "key type " + std::string(OBJ_nid2sn(id)) +
                                                  "; RSA, EC or Ed25519 are supported");
  }
  material->pkey = std::move(pkey);
  prepare_verify_templates(*material, type);
  return Key(std::move(material), type);
}

// A key file's text; an unreadable one is named by its path.
Result<std::string> read_key_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return make_error(Reason::kFileUnreadable, path);
  return text;
}

template <class T>
Result<T> name_file(Result<T> result, const std::string& path) {
  if (result) return result;
  Error error = result.error();
  error.detail = error.detail.empty() ? path : path + ": " + error.detail;
  return error;
}

// ---- JWK ----

Result<std::string> jwk_bytes(const nlohmann::json& jwk, const char* member, bool required) {
  const auto it = jwk.find(member);
  if (it == jwk.end()) {
    if (required)
      return make_error(Reason::kKeyInvalid, std::string("JWK without \"") + member + "\"");
    return std::string();
  }
  if (!it->is_string()) {
    return make_error(Reason::kKeyInvalid, std::string("JWK \"") + member + "\" is not a string");
  }
  auto bytes = base64url_decode(it->get_ref<const std::string&>());
  if (!bytes) {
    return make_error(Reason::kKeyInvalid, std::string("JWK \"") + member + "\" is not base64url");
  }
  return std::move(*bytes);
}

BnPtr to_bn(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

Result<EvpPkeyPtr> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld, bool with_private) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return key_error(Reason::kKeyInvalid,
                     std::string(type) + " JWK parameters are not a valid key");
  }
  return EvpPkeyPtr(raw);
}

Result<EvpPkeyPtr> rsa_from_jwk(const nlohmann::json& jwk, bool with_private) {
  static constexpr const char* kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi"};
  static constexpr const char* kPrivateParams[] = {
      OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
      OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  auto n = jwk_bytes(jwk, "n", true);
  if (!n) return n.error();
  auto e = jwk_bytes(jwk, "e", true);
  if (!e) return e.error();
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> numbers;
  numbers.push_back(to_bn(*n));
  numbers.push_back(to_bn(*e));
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, numbers[0].get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, numbers[1].get());
  if (with_private) {
    for (std::size_t i = 0; i < std::size(kPrivateMembers); ++i) {
      // "d" is required; the CRT members are all present or all absent (RFC 7518 6.3.2).
      auto value = jwk_bytes(jwk, kPrivateMembers[i], i == 0);
      if (!value) return value.error();
      if (value->empty()) continue;
      numbers.push_back(to_bn(*value));
      OSSL_PARAM_BLD_push_BN(bld.get(), kPrivateParams[i], numbers.back().get());
    }
  }
  return pkey_from_params("RSA", bld.get(), with_private);
}

Result<EvpPkeyPtr> ec_from_jwk(const nlohmann::json& jwk, bool with_private) {
  const auto crv = jwk.value("crv", std::string());
  std::size_t size;
  const char* group;
  if (crv == "P-256") {
    size = 32, group = "prime256v1";
  } else if (crv == "P-384") {
    size = 48, group = "secp384r1";
  } else if (crv == "P-521") {
    size = 66, group = "secp521r1";
  } else {
    return make_error(Reason::kKeyUnsupported, "EC JWK curve \"" + crv + "\"");
  }
  auto x = jwk_bytes(jwk, "x", true);
  if (!x) return x.error();
  auto y = jwk_bytes(jwk, "y", true);
  if (!y) return y.error();
  if (x->size() != size || y->size() != size) {
    return make_error(Reason::kKeyInvalid, "EC JWK coordinates of the wrong length for " + crv);
  }
  const std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  BnPtr d;
  if (with_private) {
    auto d_bytes = jwk_bytes(jwk, "d", true);
    if (!d_bytes) return d_bytes.error();
    d = to_bn(*d_bytes);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get());
  }
  return pkey_from_params("EC", bld.get(), with_private);
}

Result<EvpPkeyPtr> okp_from_jwk(const nlohmann::json& jwk, bool with_private) {
  const auto crv = jwk.value("crv", std::string());
  if (crv != "Ed25519") return make_error(Reason::kKeyUnsupported, "OKP JWK curve \"" + crv + "\"");
  auto x = jwk_bytes(jwk, "x", true);
  if (!x) return x.error();
  if (x->size() != 32) return make_error(Reason::kKeyInvalid, "Ed25519 JWK \"x\" is not 32 bytes");
  EVP_PKEY* raw = nullptr;
  if (with_private) {
    auto d = jwk_bytes(jwk, "d", true);
    if (!d) return d.error();
    if (d->size() != 32)
      return make_error(Reason::kKeyInvalid, "Ed25519 JWK \"d\" is not 32 bytes");
    raw = EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(d->data()), d->size());
    // The public part must be the one derived from the private part.
    unsigned char derived[32];
    std::size_t len = sizeof derived;
    if (raw && (EVP_PKEY_get_raw_public_key(raw, derived, &len) != 1 ||
                std::string_view(reinterpret_cast<char*>(derived), len) != *x)) {
      EVP_PKEY_free(raw);
      return key_error(Reason::kKeyInvalid, "Ed25519 JWK \"x\" does not match \"d\"");
    }
  } else {
    raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                      reinterpret_cast<const unsigned char*>(x->data()), x->size());
  }
  if (!raw) return key_error(Reason::kKeyInvalid, "Ed25519 JWK is not a valid key");
  return EvpPkeyPtr(raw);
}

// One JWK; `with_private` requires and uses the private members.
Result<Key> key_from_jwk(const nlohmann::json& jwk, bool with_private) {
  if (!jwk.is_object()) return make_error(Reason::kKeyInvalid, "a JWK is not a JSON object");
  const auto kty_it = jwk.find("kty");
  if (kty_it == jwk.end() || !kty_it->is_string()) {
    return make_error(Reason::kKeyInvalid, "JWK without a string \"kty\"");
  }
  const auto& kty = kty_it->get_ref<const std::string&>();
  std::optional<Key> key;
  if (kty == "oct") {
    if (!with_private) {
      return make_error(
          Reason::kKeyUnsupported,
          "an \"oct\" JWK among verification keys; configure HMAC secrets explicitly");
    }
    auto k = jwk_bytes(jwk, "k", true);
    if (!k) return k.error();
    if (k->size() < kMinSecretBytes) {
      return make_error(Reason::kKeyUnsupported, "HMAC secret shorter than 32 bytes");
    }
    key = make_shared_secret(*k);
  } else {
    Result<EvpPkeyPtr> pkey = make_error(Reason::kKeyUnsupported, "JWK kty \"" + kty + "\"");
    if (kty == "RSA")
      pkey = rsa_from_jwk(jwk, with_private);
    else if (kty == "EC")
      pkey = ec_from_jwk(jwk, with_private);
    else if (kty == "OKP")
      pkey = okp_from_jwk(jwk, with_private);
    if (!pkey) return pkey.error();
    auto wrapped = wrap_pkey(std::move(*pkey), with_private);
    if (!wrapped) return wrapped.error();
    key = std::move(*wrapped);
  }
  if (const auto it = jwk.find("kid"); it != jwk.end()) {
    if (!it->is_string()) return make_error(Reason::kKeyInvalid, "JWK \"kid\" is not a string");
    key->kid = it->get<std::string>();
  }
  if (const auto it = jwk.find("use"); it != jwk.end()) {
    if (!it->is_string()) return make_error(Reason::kKeyInvalid, "JWK \"use\" is not a string");
    key->use = it->get<std::string>();
  }
  if (const auto it = jwk.find("alg"); it != jwk.end()) {
    if (!it->is_string()) return make_error(Reason::kKeyInvalid, "JWK \"alg\" is not a string");
    key->alg = algorithm_from_name(it->get_ref<const std::string&>());
    if (!key->alg) {
      return make_error(Reason::kKeyUnsupported,
                        "JWK alg \"" + it->get<std::string>() + "\" is not supported");
    }
    if (!material_fits(*key, *key->alg)) {
      return make_error(Reason::kKeyInvalid,
                        "JWK alg \"" + it->get<std::string>() + "\" does not fit its kty/crv");
    }
  }
  return std::move(*key);
}

Result<nlohmann::json> parse_json(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return make_error(Reason::kKeyInvalid, "not valid JSON");
  return json;
}

// ---- PEM ----

struct PemBlock {
  std::string name;
  std::string der;
};

// Every PEM block of the text, in order.
Result<std::vector<PemBlock>> pem_blocks(std::string_view text) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  std::vector<PemBlock> blocks;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    std::unique_ptr<char, OpenSslFree> n(name), h(header);
    std::unique_ptr<unsigned char, OpenSslFree> d(data);
    blocks.push_back(
        {name, std::string(reinterpret_cast<char*>(data), static_cast<std::size_t>(len))});
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (blocks.empty()) return make_error(Reason::kKeyInvalid, "no PEM block and not a JWK/JWKS");
  return blocks;
}

Result<Key> public_key_from_pem_block(const PemBlock& block) {
  const auto* p = reinterpret_cast<const unsigned char*>(block.der.data());
  const long len = static_cast<long>(block.der.size());
  EVP_PKEY* raw = nullptr;
  if (block.name == "CERTIFICATE") {
    std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, len));
    if (!cert) return key_error(Reason::kKeyInvalid, "malformed certificate");
    raw = X509_get_pubkey(cert.get());
  } else if (block.name == "PUBLIC KEY") {
    raw = d2i_PUBKEY(nullptr, &p, len);
  } else if (block.name == "RSA PUBLIC KEY") {
    raw = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len);
  } else {
    return make_error(Reason::kKeyUnsupported,
                      "PEM \"" + block.name + "\"; expected a CERTIFICATE or a PUBLIC KEY");
  }
  if (!raw) return key_error(Reason::kKeyInvalid, "malformed PEM \"" + block.name + "\"");
  return wrap_pkey(EvpPkeyPtr(raw), false);
}

int no_password(char*, int, int, void*) { return -1; }

}  // namespace

// ---- Key, KeySet ----

Key::Key(std::shared_ptr<const Material> material, KeyType type)
    : material_(std::move(material)), type_(type) {}

bool material_fits(const Key& key, Algorithm alg) {
  if (key_type_for(alg) != key.type()) return false;
  if (key.type() == KeyType::kEc) return key.material().ec_algorithm == alg;
  return true;
}

bool Key::fits(Algorithm alg) const {
  if (!material_fits(*this, alg)) return false;
  if (!use.empty() && use != "sig") return false;
  if (this->alg && *this->alg != alg) {
    // EdDSA and Ed25519 name the same signature (RFC 9864).
    const auto ed = [](Algorithm a) { return a == Algorithm::kEdDSA || a == Algorithm::kEd25519; };
    if (!(ed(*this->alg) && ed(alg))) return false;
  }
  return true;
}

bool Key::has_private_part() const { return material_->has_private; }

bool KeySet::same_as(const KeySet& other) const {
  if (keys_.size() != other.keys_.size()) return false;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Key& a = keys_[i];
    const Key& b = other.keys_[i];
    if (a.type() != b.type() || a.kid != b.kid || a.alg != b.alg || a.use != b.use) return false;
    const Key::Material& ma = a.material();
    const Key::Material& mb = b.material();
    if (ma.pkey == nullptr || mb.pkey == nullptr) {
      if (ma.pkey != mb.pkey || ma.secret.size() != mb.secret.size() ||
          CRYPTO_memcmp(ma.secret.data(), mb.secret.data(), ma.secret.size()) != 0) {
        return false;
      }
    } else if (EVP_PKEY_eq(ma.pkey.get(), mb.pkey.get()) != 1) {
      return false;
    }
  }
  return true;
}

std::vector<const Key*> KeySet::candidates(Algorithm alg, std::string_view kid) const {
  std::vector<const Key*> out;
  bool kid_known = false;
  if (!kid.empty()) {
    for (const auto& key : keys_) kid_known = kid_known || key.kid == kid;
  }
  for (const auto& key : keys_) {
    // A kid the set knows selects exactly those keys; otherwise keys without a kid (PEM) serve.
    if (kid_known ? key.kid != kid : (!kid.empty() && !key.kid.empty())) continue;
    if (key.fits(alg)) out.push_back(&key);
  }
  return out;
}

// ---- loading ----

Result<KeySet> parse_verification_keys(std::string_view text) {
  text = trim_whitespace(text);
  std::vector<Key> keys;
  if (!text.empty() && text.front() == '{') {
    auto json = parse_json(text);
    if (!json) return json.error();
    if (const auto it = json->find("keys"); it != json->end()) {
      if (!it->is_array()) return make_error(Reason::kKeyInvalid, "JWKS \"keys\" is not an array");
      for (const auto& jwk : *it) {
        // A published JWKS may hold keys for other uses (kty we do not know): skip those.
        if (jwk.is_object() && jwk.contains("kty") && jwk["kty"].is_string()) {
          const auto& kty = jwk["kty"].get_ref<const std::string&>();
          if (kty != "RSA" && kty != "EC" && kty != "OKP") continue;
        }
        auto key = key_from_jwk(jwk, false);
        if (!key) return key.error();
        keys.push_back(std::move(*key));
      }
      if (keys.empty()) return make_error(Reason::kKeyUnsupported, "the JWKS has no usable key");
    } else {
      auto key = key_from_jwk(*json, false);
      if (!key) return key.error();
      keys.push_back(std::move(*key));
    }
    return KeySet(std::move(keys));
  }
  auto blocks = pem_blocks(text);
  if (!blocks) return blocks.error();
  for (const auto& block : *blocks) {
    auto key = public_key_from_pem_block(block);
    if (!key) return key.error();
    keys.push_back(std::move(*key));
  }
  return KeySet(std::move(keys));
}

Result<KeySet> load_verification_keys(const std::string& path) {
  auto text = read_key_file(path);
  if (!text) return text.error();
  return name_file(parse_verification_keys(*text), path);
}

Result<Key> parse_signing_key(std::string_view text) {
  text = trim_whitespace(text);
  if (!text.empty() && text.front() == '{') {
    auto json = parse_json(text);
    if (!json) return json.error();
    return key_from_jwk(*json, true);
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr);
  if (!raw) {
    const bool encrypted = text.find("ENCRYPTED") != std::string_view::npos;
    return key_error(encrypted ? Reason::kKeyUnsupported : Reason::kKeyInvalid,
                     encrypted ? "encrypted private keys are not supported"
                               : "not a PEM private key (PKCS#8, PKCS#1, SEC1) or private JWK");
  }
  return wrap_pkey(EvpPkeyPtr(raw), true);
}

Result<Key> load_signing_key(const std::string& path) {
  auto text = read_key_file(path);
  if (!text) return text.error();
  return name_file(parse_signing_key(*text), path);
}

Result<Key> load_shared_secret(const std::string& path) {
  auto text = read_key_file(path);
  if (!text) return text.error();
  if (text->size() < kMinSecretBytes) {
    return make_error(Reason::kKeyUnsupported, path + ": HMAC secret shorter than 32 bytes");
  }
  return make_shared_secret(*text);
}

Key make_shared_secret(std::string_view bytes) {
  auto material = std::make_shared<Key::Material>();
  material->secret.assign(bytes);
  material->has_private = true;
  return Key(std::move(material), KeyType::kOct);
}

std::string public_jwk(const Key& key) {
  nlohmann::ordered_json jwk;
  EVP_PKEY* pkey = key.material().pkey.get();
  const auto bn_param = [pkey](const char* name, int pad) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return std::string();
    BnPtr bn(raw);
    std::string bytes(static_cast<std::size_t>(pad > 0 ? pad : BN_num_bytes(bn.get())), '\0');
    BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()),
                 static_cast<int>(bytes.size()));
    return base64url_encode(bytes);
  };
  switch (key.type()) {
    case KeyType::kRsa:
      jwk["kty"] = "RSA";
      jwk["n"] = bn_param(OSSL_PKEY_PARAM_RSA_N, 0);
      jwk["e"] = bn_param(OSSL_PKEY_PARAM_RSA_E, 0);
      break;
    case KeyType::kEc: {
      const auto alg = key.material().ec_algorithm.value_or(Algorithm::kES256);
      const int size = alg == Algorithm::kES256 ? 32 : alg == Algorithm::kES384 ? 48 : 66;
      jwk["kty"] = "EC";
      jwk["crv"] = alg == Algorithm::kES256   ? "P-256"
                   : alg == Algorithm::kES384 ? "P-384"
                                              : "P-521";
      jwk["x"] = bn_param(OSSL_PKEY_PARAM_EC_PUB_X, size);
      jwk["y"] = bn_param(OSSL_PKEY_PARAM_EC_PUB_Y, size);
      break;
    }
    case KeyType::kOkp: {
      unsigned char raw[32];
      std::size_t len = sizeof raw;
      EVP_PKEY_get_raw_public_key(pkey, raw, &len);
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len));
      break;
    }
    case KeyType::kOct:
      // A shared secret has no public part; never print it.
      jwk["kty"] = "oct";
      break;
  }
  if (!key.kid.empty()) jwk["kid"] = key.kid;
  jwk["use"] = "sig";
  if (key.alg) jwk["alg"] = std::string(algorithm_name(*key.alg));
  ERR_clear_error();
  return jwk.dump();
}

}  // namespace jotgate::jose
