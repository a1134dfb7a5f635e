// JOSE core benchmark: full verify per algorithm (JwtVerifier::verify: shape, signature,
// claims), the work around the signature alone (BM_ParseOnly), and raw OpenSSL RS256 verifies of
// the same signing input: with a fresh EVP_DigestVerify context (what a straightforward verifier
// does) and with a prepared context on a ready digest (what `openssl speed rsa2048` measures).
//   build/release/bench/jose_bench            (release preset)
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <nlohmann/json.hpp>

#include "jose/base64url.h"
#include "jose/jwt_verifier.h"

namespace {

using namespace jotgate;
using namespace jotgate::jose;

constexpr UnixSeconds kNow = 1'700'000'000;

std::string path(const char* relative) { return std::string(JOTGATE_TEST_DATA) + "/" + relative; }

std::string read(const char* relative) {
  std::ifstream in(path(relative), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Fixture {
  const char* private_key;
  const char* public_key;
};

Fixture fixture_for(Algorithm alg) {
  switch (alg) {
    case Algorithm::kES256: return {"keys/ec_p256_private.pem", "keys/ec_p256_public.pem"};
    case Algorithm::kEdDSA: return {"keys/ed25519_private.pem", "keys/ed25519_public.pem"};
    case Algorithm::kHS256: return {"keys/hmac_secret.txt", "keys/hmac_secret.txt"};
    default: return {"keys/rsa_private.pem", "keys/rsa_cert.pem"};
  }
}

// A token as the original system's issuer sends it.
std::string make_token(Algorithm alg) {
  const auto fixture = fixture_for(alg);
  const auto key = alg == Algorithm::kHS256 ? *load_shared_secret(path(fixture.private_key))
                                            : *load_signing_key(path(fixture.private_key));
  const nlohmann::json claims = {
      {"iss", "https://idp.example.com"}, {"aud", "jotgate"}, {"userId", "alice"},
      {"userDirectory", "ACME"},          {"iat", kNow - 10}, {"exp", kNow + 3600}};
  const std::string header = R"({"alg":")" + std::string(algorithm_name(alg)) + R"(","typ":"JWT"})";
  return *sign_compact(header, claims.dump(), key);
}

VerifierSettings settings_for(Algorithm alg) {
  VerifierSettings settings;
  settings.algorithms = {alg};
  settings.issuer = "https://idp.example.com";
  settings.audiences = {"jotgate"};
  return settings;
}

void BM_Verify(benchmark::State& state, Algorithm alg) {
  const auto token = make_token(alg);
  const auto fixture = fixture_for(alg);
  KeySet keys = alg == Algorithm::kHS256 ? KeySet({*load_shared_secret(path(fixture.public_key))})
                                         : *load_verification_keys(path(fixture.public_key));
  const auto verifier = *JwtVerifier::create(settings_for(alg), std::move(keys));
  for (auto _ : state) {
    auto jwt = verifier.verify(token, kNow);
    if (!jwt) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(jwt);
  }
  state.SetItemsProcessed(state.iterations());
}

// Everything JwtVerifier::verify does except the signature: size and shape checks, base64url,
// header and payload JSON (with duplicate detection), algorithm and key selection, claims.
void BM_ParseOnly(benchmark::State& state) {
  const auto token = make_token(Algorithm::kRS256);
  const auto keys = *load_verification_keys(path("keys/rsa_cert.pem"));
  const auto settings = settings_for(Algorithm::kRS256);
  for (auto _ : state) {
    auto jws = parse_compact(token, settings.max_token_size);
    auto candidates = keys.candidates(jws->alg, jws->kid);
    auto claims = parse_json_object(jws->payload, Reason::kPayloadNotJsonObject);
    auto user = validate_claims(*claims, settings, kNow);
    if (!user || candidates.empty()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(user);
    benchmark::DoNotOptimize(candidates);
  }
  state.SetItemsProcessed(state.iterations());
}

// An RS256 token taken apart for the raw OpenSSL baselines: signing input, signature, key.
struct RawRs256 {
  RawRs256() {
    const auto token = make_token(Algorithm::kRS256);
    const auto dot = token.rfind('.');
    input = token.substr(0, dot);
    signature = *base64url_decode(token.substr(dot + 1));
    const auto pem = read("keys/rsa_public.pem");
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  ~RawRs256() { EVP_PKEY_free(pkey); }
  RawRs256(const RawRs256&) = delete;
  RawRs256& operator=(const RawRs256&) = delete;

  std::string input;
  std::string signature;
  EVP_PKEY* pkey = nullptr;
};

// The same RS256 signature checked with OpenSSL alone: what `openssl speed rsa2048` measures
// plus hashing the signing input.
void BM_RawOpenSslVerify(benchmark::State& state) {
  const RawRs256 raw;
  const std::string& input = raw.input;
  const std::string& signature = raw.signature;
  EVP_PKEY* pkey = raw.pkey;
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
    const int ok = EVP_DigestVerify(
        ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    if (ok != 1) state.SkipWithError("raw verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}

// What `openssl speed rsa2048` measures: EVP_PKEY_verify of a ready digest with a context
// initialised once. The floor no token verifier can go below.
void BM_RawOpenSslVerifyPrepared(benchmark::State& state) {
  const RawRs256 raw;
  const std::string& input = raw.input;
  const std::string& signature = raw.signature;
  EVP_PKEY* pkey = raw.pkey;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha256(), nullptr);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  EVP_PKEY_verify_init(ctx);
  EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
  EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
  for (auto _ : state) {
    const int ok = EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                                   signature.size(), digest, digest_len);
    if (ok != 1) state.SkipWithError("raw verify failed");
  }
  EVP_PKEY_CTX_free(ctx);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_Verify, RS256, Algorithm::kRS256);
BENCHMARK_CAPTURE(BM_Verify, RS384, Algorithm::kRS384);
BENCHMARK_CAPTURE(BM_Verify, RS512, Algorithm::kRS512);
BENCHMARK_CAPTURE(BM_Verify, PS256, Algorithm::kPS256);
BENCHMARK_CAPTURE(BM_Verify, ES256, Algorithm::kES256);
BENCHMARK_CAPTURE(BM_Verify, EdDSA, Algorithm::kEdDSA);
BENCHMARK_CAPTURE(BM_Verify, HS256, Algorithm::kHS256);
BENCHMARK(BM_ParseOnly);
BENCHMARK(BM_RawOpenSslVerify)->Name("BM_RawOpenSslVerify/RS256");
BENCHMARK(BM_RawOpenSslVerifyPrepared)->Name("BM_RawOpenSslVerify/RS256_prepared");

}  // namespace

BENCHMARK_MAIN();
