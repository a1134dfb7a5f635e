#include "jose/jws.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "base/secret.h"
#include "base/text.h"
#include "jose/base64url.h"
#include "jose/key_material.h"

namespace jotgate::jose {

const EVP_MD* digest_for(Algorithm alg, const Key::Material& material) {
  switch (alg) {
    case Algorithm::kRS256:
    case Algorithm::kPS256:
    case Algorithm::kES256:
    case Algorithm::kHS256: return material.sha256.get();
    case Algorithm::kRS384:
    case Algorithm::kPS384:
    case Algorithm::kES384:
    case Algorithm::kHS384: return material.sha384.get();
    case Algorithm::kRS512:
    case Algorithm::kPS512:
    case Algorithm::kES512:
    case Algorithm::kHS512: return material.sha512.get();
    case Algorithm::kEdDSA:
    case Algorithm::kEd25519: return nullptr;  // Ed25519 hashes internally
  }
  return nullptr;
}

void prepare_verify_templates(Key::Material& material, KeyType type) {
  if (!material.pkey || (type != KeyType::kRsa && type != KeyType::kEc)) return;
  for (std::size_t i = 0; i < kAlgorithmCount; ++i) {
    const auto alg = static_cast<Algorithm>(i);
    if (key_type_for(alg) != type) continue;
    if (type == KeyType::kEc && material.ec_algorithm != alg) continue;
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, material.pkey.get(), nullptr));
    const EVP_MD* md = digest_for(alg, material);
    bool ok = ctx && md && EVP_PKEY_verify_init(ctx.get()) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ctx.get(), md) == 1;
    if (ok && type == KeyType::kRsa) {
      const bool pss =
          alg == Algorithm::kPS256 || alg == Algorithm::kPS384 || alg == Algorithm::kPS512;
      ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(),
                                        pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1;
      // RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
      if (ok && pss) {
        ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) == 1;
      }
    }
    // Without a template, verify falls back to a fresh EVP_DigestVerify context.
    if (ok) {
      static std::atomic<std::uint64_t> next_id{1};
      material.verify_templates[i] = std::move(ctx);
      material.template_ids[i] = next_id.fetch_add(1);
    }
  }
  ERR_clear_error();
}

namespace {

// This thread's copy of a verify template, made on first use and then reused: an initialised
// EVP_PKEY_CTX verifies any number of signatures, so the per-token copy (about 5 % of an RS256
// verify) is paid once per thread and key. Few keys are live at once; the list is cleared
// when it grows past a handful (copies keep their own reference to the key).
EVP_PKEY_CTX* thread_verify_context(std::uint64_t id, const EVP_PKEY_CTX* tmpl) {
  struct Copy {
    std::uint64_t id;
    EvpPkeyCtxPtr ctx;
  };
  constexpr std::size_t kMaxCopies = 16;
  thread_local std::vector<Copy> copies;
  for (auto& copy : copies) {
    if (copy.id == id) return copy.ctx.get();
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_dup(tmpl));
  if (!ctx) return nullptr;
  if (copies.size() >= kMaxCopies) copies.clear();
  copies.push_back({id, std::move(ctx)});
  return copies.back().ctx.get();
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct OpenSslFree {
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};

bool is_pss(Algorithm alg) {
  return alg == Algorithm::kPS256 || alg == Algorithm::kPS384 || alg == Algorithm::kPS512;
}

// Size of R and of S in a raw ECDSA signature (RFC 7518 section 3.4).
std::size_t ec_coordinate_size(Algorithm alg) {
  return alg == Algorithm::kES256 ? 32 : alg == Algorithm::kES384 ? 48 : 66;
}

std::string_view as_chars(const unsigned char* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}
const unsigned char* as_bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// One-shot context: digest init (with PSS parameters when needed) for verify or sign.
EVP_MD_CTX* new_digest_ctx(Algorithm alg, const Key::Material& material, bool sign) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return nullptr;
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = digest_for(alg, material);
  EVP_PKEY* pkey = material.pkey.get();
  const int rc = sign ? EVP_DigestSignInit(ctx, &pctx, md, nullptr, pkey)
                      : EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, pkey);
  if (rc != 1) {
    EVP_MD_CTX_free(ctx);
    return nullptr;
  }
  if (is_pss(alg)) {
    // RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1) {
      EVP_MD_CTX_free(ctx);
      return nullptr;
    }
  }
  return ctx;
}

bool hmac(Algorithm alg, const Key::Material& material, std::string_view input, unsigned char* out,
          unsigned int* out_len) {
  const auto& secret = material.secret;
  return HMAC(digest_for(alg, material), secret.data(), static_cast<int>(secret.size()),
              as_bytes(input), input.size(), out, out_len) != nullptr;
}

// Raw R||S (fixed length) to the DER form OpenSSL verifies; empty when impossible.
std::string raw_to_der(std::string_view raw) {
  const std::size_t half = raw.size() / 2;
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(as_bytes(raw), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(as_bytes(raw) + half, static_cast<int>(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return {};
  std::unique_ptr<unsigned char, OpenSslFree> owned(der);
  return std::string(as_chars(der, static_cast<std::size_t>(len)));
}

std::string der_to_raw(std::string_view der, std::size_t coordinate) {
  const unsigned char* p = as_bytes(der);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return {};
  std::string raw(coordinate * 2, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, static_cast<int>(coordinate)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + coordinate, static_cast<int>(coordinate)) <
          0) {
    return {};
  }
  return raw;
}

// True when the signature verifies with this key (the key already fits the algorithm).
bool verify_with(const Key& key, Algorithm alg, std::string_view input,
                 std::string_view signature) {
  const auto& material = key.material();
  if (key.type() == KeyType::kOct) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!hmac(alg, material, input, tag, &len)) return false;
    return constant_time_equal(as_chars(tag, len), signature);
  }
  std::string der;
  if (key.type() == KeyType::kEc) {
    der = raw_to_der(signature);
    if (der.empty()) return false;
    signature = der;
  }
  if (const auto& tmpl = material.verify_templates[static_cast<std::size_t>(alg)]) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &digest_len, digest_for(alg, material),
                   nullptr) != 1) {
      return false;
    }
    EVP_PKEY_CTX* ctx =
        thread_verify_context(material.template_ids[static_cast<std::size_t>(alg)], tmpl.get());
    return ctx != nullptr &&
           EVP_PKEY_verify(ctx, as_bytes(signature), signature.size(), digest, digest_len) == 1;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(new_digest_ctx(alg, material, false));
  if (!ctx) return false;
  return EVP_DigestVerify(ctx.get(), as_bytes(signature), signature.size(), as_bytes(input),
                          input.size()) == 1;
}

// Builds the DOM like nlohmann's own parser, but refuses a member name repeated in one object
// (nlohmann would keep the last silently). A SAX handler rather than the parser callback: the
// callback parser costs a std::function call and bookkeeping per event on the hot path.
class StrictDomBuilder {
 public:
  using json = nlohmann::json;
  explicit StrictDomBuilder(json& root) : root_(root) {}

  bool null() { return put(nullptr) != nullptr; }
  bool boolean(bool value) { return put(value) != nullptr; }
  bool number_integer(json::number_integer_t value) { return put(value) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return put(value) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t&) {
    return put(value) != nullptr;
  }
  bool string(json::string_t& value) { return put(std::move(value)) != nullptr; }
  bool binary(json::binary_t&) { return false; }  // JSON text has no binary values
  bool start_object(std::size_t) {
    stack_.push_back(put(json::object()));
    return true;
  }
  bool key(json::string_t& name) {
    auto& object = stack_.back()->get_ref<json::object_t&>();
    auto [it, inserted] = object.try_emplace(std::move(name));
    if (!inserted) {
      duplicate_ = true;
      return false;  // stops the parse
    }
    member_ = &it->second;
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    stack_.push_back(put(json::array()));
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  bool duplicate() const { return duplicate_; }

 private:
  // Places a value where the parser is (root, array element or the member just named).
  json* put(json&& value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      auto& array = parent.get_ref<json::array_t&>();
      array.push_back(std::move(value));
      return &array.back();
    }
    *member_ = std::move(value);
    return member_;
  }

  json& root_;
  std::vector<json*> stack_;
  json* member_ = nullptr;
  bool duplicate_ = false;
};

}  // namespace

Result<nlohmann::json> parse_json_object(std::string_view text, Reason not_object_reason) {
  nlohmann::json root;
  StrictDomBuilder builder(root);
  const bool parsed = nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  if (builder.duplicate()) return make_error(Reason::kDuplicateMember);
  if (!parsed || !root.is_object()) return make_error(not_object_reason);
  return root;
}

Result<ParsedJws> parse_compact(std::string_view token, std::size_t max_size) {
  if (token.size() > max_size) return make_error(Reason::kTokenTooLarge);
  const auto dots = std::count(token.begin(), token.end(), '.');
  if (dots == 4) return make_error(Reason::kTokenEncrypted);
  if (dots != 2) return make_error(Reason::kTokenMalformed);
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const auto header_b64 = token.substr(0, first);
  const auto payload_b64 = token.substr(first + 1, second - first - 1);
  const auto signature_b64 = token.substr(second + 1);
  if (header_b64.empty()) return make_error(Reason::kTokenMalformed, "empty header");

  ParsedJws jws{};
  auto header = base64url_decode(header_b64);
  if (!header) return make_error(Reason::kBase64UrlMalformed, "header");
  auto payload = base64url_decode(payload_b64);
  if (!payload) return make_error(Reason::kBase64UrlMalformed, "payload");
  auto signature = base64url_decode(signature_b64);
  if (!signature) return make_error(Reason::kBase64UrlMalformed, "signature");

  auto header_json = parse_json_object(*header, Reason::kHeaderNotJsonObject);
  if (!header_json) {
    Error error = header_json.error();
    if (error.reason == Reason::kDuplicateMember) error.detail = "header";
    return error;
  }
  const auto alg_it = header_json->find("alg");
  if (alg_it == header_json->end() || !alg_it->is_string()) return make_error(Reason::kAlgMissing);
  const auto& alg_name = alg_it->get_ref<const std::string&>();
  if (iequals(alg_name, "none")) return make_error(Reason::kAlgNone);
  const auto alg = algorithm_from_name(alg_name);
  if (!alg) return make_error(Reason::kAlgNotAllowed, "unknown algorithm");
  // jotgate understands no header extension, so any "crit" (even a malformed one) is refused.
  if (header_json->contains("crit")) return make_error(Reason::kCritUnsupported);
  if (const auto kid = header_json->find("kid"); kid != header_json->end()) {
    if (!kid->is_string()) return make_error(Reason::kTokenMalformed, "\"kid\" is not a string");
    jws.kid = kid->get<std::string>();
  }
  // jku, x5u, jwk and x5c are deliberately never read: keys come from configuration only.
  jws.alg = *alg;
  jws.header = std::move(*header_json);
  jws.header_json = std::move(*header);
  jws.payload = std::move(*payload);
  jws.signature = std::move(*signature);
  jws.signing_input = token.substr(0, second);
  return jws;
}

Result<void> check_algorithm(const ParsedJws& jws, const std::vector<Algorithm>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), jws.alg) == allowed.end()) {
    return make_error(Reason::kAlgNotAllowed, std::string(algorithm_name(jws.alg)));
  }
  return {};
}

Result<void> check_signature_form(const ParsedJws& jws) {
  const Algorithm alg = jws.alg;
  if (key_type_for(alg) == KeyType::kEc && jws.signature.size() != 2 * ec_coordinate_size(alg)) {
    return make_error(Reason::kSignatureMalformed, "ECDSA signature must be raw R||S");
  }
  if ((alg == Algorithm::kEdDSA || alg == Algorithm::kEd25519) && jws.signature.size() != 64) {
    return make_error(Reason::kSignatureMalformed, "Ed25519 signature must be 64 bytes");
  }
  return {};
}

Result<std::vector<const Key*>> keys_for(const ParsedJws& jws, const KeySet& keys) {
  auto candidates = keys.candidates(jws.alg, jws.kid);
  if (candidates.empty()) {
    // Tell algorithm confusion (no key of that type at all) from a kid/alg metadata miss.
    const bool type_fits = std::any_of(keys.keys().begin(), keys.keys().end(),
                                       [&](const Key& key) { return material_fits(key, jws.alg); });
    if (!type_fits) {
      return make_error(Reason::kAlgKeyMismatch, std::string(algorithm_name(jws.alg)));
    }
    return make_error(Reason::kNoMatchingKey);
  }
  return candidates;
}

Result<void> verify_with_keys(const ParsedJws& jws, const std::vector<const Key*>& candidates) {
  for (const Key* key : candidates) {
    if (verify_with(*key, jws.alg, jws.signing_input, jws.signature)) return {};
  }
  ERR_clear_error();  // failed verifies leave entries on this thread's queue
  return make_error(Reason::kSignatureMismatch);
}

Result<void> verify_signature(const ParsedJws& jws, const KeySet& keys,
                              const std::vector<Algorithm>& allowed) {
  if (auto allowed_alg = check_algorithm(jws, allowed); !allowed_alg) return allowed_alg;
  if (auto form = check_signature_form(jws); !form) return form;
  auto candidates = keys_for(jws, keys);
  if (!candidates) return candidates.error();
  return verify_with_keys(jws, *candidates);
}

Result<std::string> sign_compact(std::string_view header_json, std::string_view payload,
                                 const Key& key) {
  auto header = parse_json_object(header_json, Reason::kHeaderNotJsonObject);
  if (!header) return header.error();
  const auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) return make_error(Reason::kAlgMissing);
  const auto alg = algorithm_from_name(alg_it->get_ref<const std::string&>());
  if (!alg) return make_error(Reason::kAlgNotAllowed, alg_it->get<std::string>());
  // fits(): type and curve, and a JWK's own "alg"/"use" when it has them.
  if (!key.fits(*alg))
    return make_error(Reason::kAlgKeyMismatch, std::string(algorithm_name(*alg)));
  if (!key.has_private_part()) return make_error(Reason::kKeyUnsupported, "not a private key");

  std::string token = base64url_encode(header_json);
  token += '.';
  token += base64url_encode(payload);
  const std::string_view input = token;

  std::string signature;
  const auto& material = key.material();
  if (key.type() == KeyType::kOct) {
    unsigned char tag[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!hmac(*alg, material, input, tag, &len)) {
      return make_error(Reason::kKeyInvalid, "HMAC failed");
    }
    signature.assign(as_chars(tag, len));
  } else {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(new_digest_ctx(*alg, material, true));
    std::size_t len = 0;
    if (!ctx || EVP_DigestSign(ctx.get(), nullptr, &len, as_bytes(input), input.size()) != 1) {
      ERR_clear_error();
      return make_error(Reason::kKeyInvalid, "signing failed");
    }
    signature.resize(len);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                       as_bytes(input), input.size()) != 1) {
      ERR_clear_error();
      return make_error(Reason::kKeyInvalid, "signing failed");
    }
    signature.resize(len);
    if (key.type() == KeyType::kEc) {
      signature = der_to_raw(signature, ec_coordinate_size(*alg));
      if (signature.empty())
        return make_error(Reason::kKeyInvalid, "ECDSA signature conversion failed");
    }
  }
  token += '.';
  token += base64url_encode(signature);
  return token;
}

}  // namespace jotgate::jose
