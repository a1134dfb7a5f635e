// JWS compact serialization (RFC 7515 section 7.1): split, decode, verify, sign.
// No claim semantics here; see jwt_verifier.h for tokens as credentials.
//   auto parsed = parse_compact(token, 16 * 1024);
//   if (parsed) auto ok = verify_signature(*parsed, keys, allowed);
//   auto token = sign_compact(R"({"alg":"RS256"})", payload, key);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "jose/algorithm.h"
#include "jose/key.h"

namespace jotgate::jose {

inline constexpr std::size_t kDefaultMaxTokenSize = 16 * 1024;

// A JWS whose shape is valid; its signature is not yet checked.
struct ParsedJws {
  std::string header_json;         // decoded protected header (a JSON object, no duplicate members)
  nlohmann::json header;           // the same, parsed once
  std::string payload;             // decoded payload bytes
  std::string signature;           // decoded signature bytes
  std::string_view signing_input;  // "<header>.<payload>" as in the token; points into it
  Algorithm alg;
  std::string kid;  // empty when absent
};

// Shape checks in this order: size (before anything else), five parts (JWE), three parts,
// base64url of each part, header a JSON object without duplicate members, alg present and not
// "none" (any case), alg known, no "crit" (jotgate understands no extension), kid a string.
// jku, x5u, jwk and x5c are never read. The token must outlive the result (signing_input).
Result<ParsedJws> parse_compact(std::string_view token,
                                std::size_t max_size = kDefaultMaxTokenSize);

// Payload must be a JSON object without duplicate members when used as a JWT.
Result<nlohmann::json> parse_json_object(std::string_view text, Reason not_object_reason);

// Checks the signature against the key set. The algorithm must be in `allowed` and fit the key
// type (HMAC against an RSA/EC/OKP key is algorithm confusion and refused). ES* signatures must
// be raw R||S of the curve's size (DER is refused); HMAC tags are compared in constant time.
Result<void> verify_signature(const ParsedJws& jws, const KeySet& keys,
                              const std::vector<Algorithm>& allowed);

// The steps of verify_signature, in its order, for a diagnosis that shows each one (the token
// workbench): the algorithm allowed (kAlgNotAllowed), the signature's form for its algorithm
// (kSignatureMalformed), the keys that may have signed it by kid and algorithm
// (kAlgKeyMismatch: none of its key type; kNoMatchingKey), and the signature (kSignatureMismatch).
Result<void> check_algorithm(const ParsedJws& jws, const std::vector<Algorithm>& allowed);
Result<void> check_signature_form(const ParsedJws& jws);
Result<std::vector<const Key*>> keys_for(const ParsedJws& jws, const KeySet& keys);
Result<void> verify_with_keys(const ParsedJws& jws, const std::vector<const Key*>& candidates);

// Signs header and payload (JSON texts used verbatim, base64url-encoded) with `key`. The header
// must be a JSON object with an "alg" that fits the key.
Result<std::string> sign_compact(std::string_view header_json, std::string_view payload,
                                 const Key& key);

}  // namespace jotgate::jose
