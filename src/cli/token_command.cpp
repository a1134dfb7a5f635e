// `jotgate token sign | verify | decode`: the local replacement for pasting private keys into a
// website. Exit status everywhere: 0 done, 1 the token is invalid (or could not be signed),
// 2 usage or key-file error. Errors name files and reasons, never token or key bytes.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/duration.h"
#include "base/file.h"
#include "base/result.h"
#include "base/text.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "jose/algorithm.h"
#include "jose/base64url.h"
#include "jose/jws.h"
#include "jose/jwt_verifier.h"
#include "jose/key.h"

namespace jotgate::cli {

namespace {

using nlohmann::json;

// Bounds that keep time arithmetic far from overflow: year 9999, and a century.
constexpr std::int64_t kLatestTime = 253402300799;
constexpr std::int64_t kLongestDuration = 100LL * 366 * 24 * 3600;
constexpr std::string_view kSign = "token sign";  // the command names in messages
constexpr std::string_view kVerify = "token verify";
constexpr std::string_view kAlgorithmNames =
    "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519 HS256 HS384 HS512";

// An invalid token: exactly "REASON_CODE: message" on standard error, for scripts to match.
[[noreturn]] void fail_invalid(const Error& error) {
  fail_with_text(kExitFailed, error.describe());
}

// The token argument, or standard input for "-"; surrounding whitespace (a trailing newline
// from `echo` or a file) is not part of a token.
std::string token_argument(const std::string& argument) {
  if (argument != "-") return std::string(trim_whitespace(argument));
  std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  return std::string(trim_whitespace(input));
}

std::string file_problem(std::string_view what, const std::string& path, const Error& error) {
  return std::string(what) + " '" + path + "': " + error.message();
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

UnixSeconds now_or(std::string_view command, const std::string& time_option) {
  if (time_option.empty()) return SystemClock().now_seconds();
  auto seconds = parse_integer(time_option);
  if (!seconds || *seconds < 0 || *seconds > kLatestTime) {
    fail(kExitUsage, command,
         "--time '" + time_option + "' is not a whole number of Unix seconds (up to year 9999)");
  }
  return *seconds;
}

jose::Algorithm algorithm_or_fail(std::string_view command, const std::string& name) {
  auto alg = jose::algorithm_from_name(name);
  if (!alg) {
    fail(kExitUsage, command,
         "unknown algorithm '" + name + "' (known: " + std::string(kAlgorithmNames) + ")");
  }
  return *alg;
}

std::string_view key_type_name(jose::KeyType type) {
  switch (type) {
    case jose::KeyType::kRsa: return "an RSA key";
    case jose::KeyType::kEc: return "an EC key";
    case jose::KeyType::kOkp: return "an Ed25519 key";
    case jose::KeyType::kOct: return "a shared secret";
  }
  return "a key";
}

// ---- sign ---------------------------------------------------------------------------------

struct SignOptions {
  std::string key_path;
  std::string secret_path;
  std::string alg;
  std::string kid;
  std::vector<std::string> claims;
  std::vector<std::string> json_claims;
  std::string expires_in = "1h";
  std::string not_before;
  std::string time;
};

// RS256 for RSA, the curve's ES* for EC, EdDSA for Ed25519, HS256 for a secret; a JWK's own
// "alg" wins.
std::optional<jose::Algorithm> default_algorithm(const jose::Key& key) {
  if (key.alg) return key.alg;
  switch (key.type()) {
    case jose::KeyType::kRsa: return jose::Algorithm::kRS256;
    case jose::KeyType::kOkp: return jose::Algorithm::kEdDSA;
    case jose::KeyType::kOct: return jose::Algorithm::kHS256;
    case jose::KeyType::kEc:
      for (auto alg : {jose::Algorithm::kES256, jose::Algorithm::kES384, jose::Algorithm::kES512}) {
        if (key.fits(alg)) return alg;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

jose::Key signing_key_or_fail(const SignOptions& options) {
  if (!options.secret_path.empty()) {
    if (auto readable = read_file(options.secret_path); !readable) {
      fail(kExitUsage, kSign, file_problem("secret file", options.secret_path, readable.error()));
    }
    auto secret = jose::load_shared_secret(options.secret_path);
    if (!secret)
      fail(kExitUsage, kSign, file_problem("secret file", options.secret_path, secret.error()));
    return *secret;
  }
  auto text = read_file(options.key_path);
  if (!text) fail(kExitUsage, kSign, file_problem("key file", options.key_path, text.error()));
  auto key = jose::parse_signing_key(*text);
  if (!key) fail(kExitUsage, kSign, file_problem("key file", options.key_path, key.error()));
  if (!key->has_private_part()) {
    fail(kExitUsage, kSign, "key file '" + options.key_path + "' has no private key");
  }
  return *key;
}

// NAME=VALUE -> (NAME, VALUE); the value may itself contain '='.
std::pair<std::string, std::string> split_claim(std::string_view option, const std::string& text) {
  auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    fail(kExitUsage, kSign, std::string(option) + " '" + text + "' is not NAME=VALUE");
  }
  return {text.substr(0, equals), text.substr(equals + 1)};
}

// "+5m" / "-30s" relative to now, or absolute Unix seconds.
std::optional<UnixSeconds> parse_instant(std::string_view text, UnixSeconds now) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    auto seconds = parse_duration_seconds(text.substr(1));
    if (!seconds || *seconds > kLongestDuration) return std::nullopt;
    return text.front() == '+' ? now + *seconds : now - *seconds;
  }
  auto absolute = parse_integer(text);
  if (!absolute || *absolute < 0 || *absolute > kLatestTime) return std::nullopt;
  return absolute;
}

json sign_payload(const SignOptions& options, UnixSeconds now) {
  json payload = json::object();
  payload["iat"] = now;
  if (options.expires_in != "never") {
    auto seconds = parse_duration_seconds(options.expires_in);
    if (!seconds || *seconds == 0 || *seconds > kLongestDuration) {
      fail(kExitUsage, kSign,
           "--expires-in '" + options.expires_in +
               "' is not a positive duration up to a century such as 3600, 90s, 30m, 8h, 2d " +
               "(or 'never')");
    }
    payload["exp"] = now + *seconds;
  }
  if (!options.not_before.empty()) {
    auto nbf = parse_instant(options.not_before, now);
    if (!nbf) {
      fail(kExitUsage, kSign,
           "--not-before '" + options.not_before +
               "' is neither Unix seconds nor a relative duration such as +5m or -1h");
    }
    payload["nbf"] = *nbf;
  }

  std::set<std::string> named;
  auto name_once = [&](const std::string& name) {
    if (!named.insert(name).second) fail(kExitUsage, kSign, "claim '" + name + "' is given twice");
  };
  for (const auto& text : options.claims) {
    auto [name, value] = split_claim("--claim", text);
    if (name == "iat" || name == "exp" || name == "nbf") {
      fail(kExitUsage, kSign,
           "--claim " + name + " would make a string; use --expires-in, --not-before or " +
               "--claim-json " + name + "=NUMBER");
    }
    name_once(name);
    payload[name] = value;
  }
  for (const auto& text : options.json_claims) {
    auto [name, value] = split_claim("--claim-json", text);
    name_once(name);
    json parsed = json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      fail(kExitUsage, kSign, "--claim-json " + name + ": the value is not valid JSON");
    }
    payload[name] = std::move(parsed);  // may deliberately override iat/exp/nbf
  }
  return payload;
}

void run_sign(const SignOptions& options) {
  if (options.key_path.empty() == options.secret_path.empty()) {
    fail(kExitUsage, kSign, "give exactly one of --key PRIVATE.pem or --secret-file FILE");
  }
  jose::Key key = signing_key_or_fail(options);
  const std::string& key_file = options.key_path.empty() ? options.secret_path : options.key_path;

  std::optional<jose::Algorithm> alg;
  if (!options.alg.empty()) {
    alg = algorithm_or_fail(kSign, options.alg);
    if (!key.fits(*alg)) {
      fail(kExitUsage, kSign,
           "--alg " + options.alg + " does not fit " + std::string(key_type_name(key.type())) +
               " (" + key_file + ")");
    }
  } else {
    alg = default_algorithm(key);
    if (!alg)
      fail(kExitUsage, kSign, "no algorithm fits the key in '" + key_file + "'; pass --alg");
  }

  UnixSeconds now = now_or(kSign, options.time);
  json payload = sign_payload(options, now);
  json header = {{"alg", std::string(jose::algorithm_name(*alg))}, {"typ", "JWT"}};
  std::string kid = options.kid.empty() ? key.kid : options.kid;
  if (!kid.empty()) header["kid"] = kid;

  std::string header_text;
  std::string payload_text;
  try {
    header_text = header.dump();
    payload_text = payload.dump();
  } catch (const json::exception&) {
    fail(kExitUsage, kSign, "a claim name or value is not valid UTF-8");
  }
  auto token = jose::sign_compact(header_text, payload_text, key);
  if (!token) fail(kExitFailed, kSign, token.error().describe());
  std::cout << *token << "\n";
}

// ---- verify -------------------------------------------------------------------------------

struct VerifyOptions {
  std::string key_path;
  std::string secret_path;
  std::vector<std::string> algs;
  std::string issuer;
  std::vector<std::string> audiences;
  std::string leeway = "60s";
  std::string time;
  std::string user_id_claim = "userId";
  std::string user_directory_claim = "userDirectory";
  std::string user_directory;
  std::vector<std::string> required_claims;
  std::string token;
};

jose::KeySet verification_keys_or_fail(const VerifyOptions& options) {
  std::vector<jose::Key> keys;
  if (!options.key_path.empty()) {
    auto text = read_file(options.key_path);
    if (!text) fail(kExitUsage, kVerify, file_problem("key file", options.key_path, text.error()));
    auto set = jose::parse_verification_keys(*text);
    if (!set) fail(kExitUsage, kVerify, file_problem("key file", options.key_path, set.error()));
    if (set->empty()) fail(kExitUsage, kVerify, "key file '" + options.key_path + "' holds no key");
    keys = set->keys();
  }
  if (!options.secret_path.empty()) {
    if (auto readable = read_file(options.secret_path); !readable) {
      fail(kExitUsage, kVerify, file_problem("secret file", options.secret_path, readable.error()));
    }
    auto secret = jose::load_shared_secret(options.secret_path);
    if (!secret) {
      fail(kExitUsage, kVerify, file_problem("secret file", options.secret_path, secret.error()));
    }
    keys.push_back(*secret);
  }
  return jose::KeySet(std::move(keys));
}

// --alg as given; otherwise RS256,RS384,RS512 for --key and HS256,HS384,HS512 for --secret-file.
std::vector<jose::Algorithm> allowed_algorithms(const VerifyOptions& options) {
  std::vector<jose::Algorithm> algs;
  for (const auto& name : options.algs) {
    if (!name.empty()) algs.push_back(algorithm_or_fail(kVerify, name));
  }
  if (!algs.empty()) return algs;
  if (!options.key_path.empty()) algs = jose::default_algorithms();
  if (!options.secret_path.empty()) {
    algs.insert(algs.end(),
                {jose::Algorithm::kHS256, jose::Algorithm::kHS384, jose::Algorithm::kHS512});
  }
  return algs;
}

std::string algorithm_list(const std::vector<jose::Algorithm>& algs) {
  std::string text;
  for (auto alg : algs) {
    if (!text.empty()) text += ",";
    text += jose::algorithm_name(alg);
  }
  return text;
}

void run_verify(const VerifyOptions& options) {
  if (options.key_path.empty() && options.secret_path.empty()) {
    fail(kExitUsage, kVerify,
         "give --key FILE (certificate, public key or JWKS) or --secret-file FILE");
  }
  jose::VerifierSettings settings;
  settings.algorithms = allowed_algorithms(options);
  settings.issuer = options.issuer;
  settings.audiences = options.audiences;
  auto leeway = parse_duration_seconds(options.leeway);
  if (!leeway || *leeway > kLongestDuration) {
    fail(kExitUsage, kVerify,
         "--leeway '" + options.leeway + "' is not a duration such as 60s or 2m");
  }
  settings.leeway_seconds = *leeway;
  settings.user_id_claim = options.user_id_claim;
  settings.user_directory_claim = options.user_directory_claim;
  if (!options.user_directory.empty()) settings.user_directory = options.user_directory;
  settings.required_claims = options.required_claims;
  UnixSeconds now = now_or(kVerify, options.time);

  const std::string algs = algorithm_list(settings.algorithms);
  auto verifier =
      jose::JwtVerifier::create(std::move(settings), verification_keys_or_fail(options));
  if (!verifier) {
    std::string files = options.key_path.empty() ? options.secret_path
                        : options.secret_path.empty()
                            ? options.key_path
                            : options.key_path + "' and '" + options.secret_path;
    fail(kExitUsage, kVerify,
         "no key in '" + files + "' fits the allowed algorithms " + algs +
             "; pass --alg to match the key (" + verifier.error().describe() + ")");
  }

  std::string token = token_argument(options.token);
  auto jwt = verifier->verify(token, now);
  if (!jwt) fail_invalid(jwt.error());
  json out = {{"header", jwt->header()},
              {"claims", jwt->claims()},
              {"user", {{"directory", jwt->user().directory}, {"id", jwt->user().id}}}};
  std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

// ---- decode -------------------------------------------------------------------------------

void run_decode(const std::string& argument) {
  std::string token = token_argument(argument);
  std::vector<std::string_view> parts;
  std::string_view rest = token;
  for (;;) {
    auto dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (parts.size() == 5) fail_invalid(make_error(Reason::kTokenEncrypted));
  if (parts.size() != 3) {
    fail_invalid(make_error(Reason::kTokenMalformed, std::to_string(parts.size()) + " parts"));
  }
  auto header_text = jose::base64url_decode(parts[0]);
  if (!header_text) fail_invalid(make_error(Reason::kBase64UrlMalformed, "header"));
  auto payload_text = jose::base64url_decode(parts[1]);
  if (!payload_text) fail_invalid(make_error(Reason::kBase64UrlMalformed, "payload"));
  auto header = jose::parse_json_object(*header_text, Reason::kHeaderNotJsonObject);
  if (!header) fail_invalid(header.error());
  auto payload = jose::parse_json_object(*payload_text, Reason::kPayloadNotJsonObject);
  if (!payload) fail_invalid(payload.error());

  json out = {{"verified", false}, {"header", *header}, {"payload", *payload}};
  std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  std::cerr << "jotgate token decode: NOT VERIFIED: the signature and claims were not checked; "
               "use 'jotgate token verify' before trusting this token\n";
}

}  // namespace

void add_token_command(CLI::App& root) {
  CLI::App* token = root.add_subcommand("token", "Sign, verify and decode JWTs locally");
  token->require_subcommand(1);
  token->footer(
      "Exit status: 0 done; 1 the token is invalid; 2 usage or key-file error.\n"
      "Examples:\n"
      "  jotgate token sign --key certs/signer_key.pem --claim userId=alice "
      "--claim userDirectory=ACME\n"
      "  jotgate token verify --key certs/signer.pem eyJhbGciOi...\n"
      "  jotgate token decode - < token.jwt\n");

  // sign
  auto sign = std::make_shared<SignOptions>();
  CLI::App* sign_app = token->add_subcommand("sign", "Sign a JWT with a private key and print it");
  sign_app->add_option("--key", sign->key_path,
                       "Private key: PEM (PKCS#8, PKCS#1, SEC1) or a JWK with private parts");
  sign_app->add_option("--secret-file", sign->secret_path,
                       "Shared secret for HS256/384/512 (the file's bytes, at least 32)");
  sign_app->add_option("--alg", sign->alg,
                       "Algorithm; default: RS256 for RSA, ES256/384/512 by curve for EC, EdDSA "
                       "for Ed25519, HS256 for --secret-file");
  sign_app->add_option("--kid", sign->kid, "Key id to put in the header");
  sign_app->add_option("--claim", sign->claims, "String claim NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  sign_app
      ->add_option("--claim-json", sign->json_claims,
                   "JSON claim NAME=JSON, e.g. 'groups=[\"a\",\"b\"]' or level=3 "
                   "(repeatable); may override iat/exp/nbf")
      ->allow_extra_args(false);
  sign_app
      ->add_option("--expires-in", sign->expires_in,
                   "Lifetime: seconds or 90s, 30m, 8h, 2d; 'never' omits exp")
      ->capture_default_str();
  sign_app->add_option("--not-before", sign->not_before,
                       "Sets nbf: Unix seconds, or relative to now like +5m or -1h");
  sign_app->add_option("--time", sign->time,
                       "Sign as if it were this instant (Unix seconds); default: now");
  sign_app->footer(
      "The header is {\"alg\",\"typ\":\"JWT\"} plus \"kid\" when given. The payload has iat "
      "(now),\n"
      "exp (now + --expires-in), nbf when --not-before is given, and every --claim/--claim-json\n"
      "(a claim name may be given once). Give exactly one of --key and --secret-file.\n"
      "Exit status: 0 the token is on standard output; 1 signing failed; 2 usage or key-file "
      "error.\n"
      "Algorithms: " +
      std::string(kAlgorithmNames) +
      "\n"
      "Examples:\n"
      "  jotgate token sign --key certs/signer_key.pem --claim userId=alice "
      "--claim userDirectory=ACME\n"
      "  jotgate token sign --key ec_key.pem --alg ES256 --kid k1 --expires-in 8h \\\n"
      "      --claim userId=bob --claim userDirectory=ACME --claim-json 'groups=[\"admins\"]'\n"
      "  jotgate token sign --secret-file hmac.key --claim userId=svc --claim "
      "userDirectory=INTERNAL\n"
      "  jotgate token sign --key certs/signer_key.pem --not-before +5m --expires-in never ...\n");
  sign_app->callback([sign] { run_sign(*sign); });

  // verify
  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_app = token->add_subcommand(
      "verify", "Verify a JWT; print its header, claims and user as JSON when valid");
  verify_app->add_option("--key", verify->key_path,
                         "Verification key: PEM certificate, PEM public key, or JWKS/JWK file");
  verify_app->add_option("--secret-file", verify->secret_path, "Shared secret for HS256/384/512");
  verify_app
      ->add_option("--alg", verify->algs,
                   "Allowed algorithms, comma-separated; default RS256,RS384,RS512 "
                   "(HS256,HS384,HS512 with --secret-file)")
      ->delimiter(',')
      ->allow_extra_args(false);  // one value per --alg, so the token is not taken as an alg
  verify_app->add_option("--iss", verify->issuer, "Required issuer");
  verify_app
      ->add_option("--aud", verify->audiences,
                   "Required audience (repeatable: any one of them must be in aud)")
      ->allow_extra_args(false);
  verify_app->add_option("--leeway", verify->leeway, "Clock leeway for exp/nbf/iat")
      ->capture_default_str();
  verify_app->add_option("--time", verify->time,
                         "Evaluate exp/nbf at this instant (Unix seconds); default: now");
  verify_app->add_option("--user-id-claim", verify->user_id_claim, "Claim holding the user id")
      ->capture_default_str();
  verify_app
      ->add_option("--user-directory-claim", verify->user_directory_claim,
                   "Claim holding the user directory")
      ->capture_default_str();
  verify_app->add_option("--user-directory", verify->user_directory,
                         "Constant user directory instead of the claim");
  verify_app
      ->add_option("--require", verify->required_claims, "Claim that must be present (repeatable)")
      ->allow_extra_args(false);
  verify_app->add_option("token", verify->token, "The token, or - to read it from standard input")
      ->required();
  verify_app->footer(
      "Valid: exit 0 and one JSON object {\"header\",\"claims\",\"user\":{\"directory\",\"id\"}}.\n"
      "Invalid: exit 1 and \"REASON_CODE: message\" on standard error.\n"
      "Usage or key-file error: exit 2.\n"
      "Examples:\n"
      "  jotgate token verify --key certs/signer.pem \"$TOKEN\"\n"
      "  jotgate token sign --key certs/signer_key.pem --claim userId=a --claim userDirectory=D "
      "\\\n"
      "      | jotgate token verify --key certs/signer.pem -\n"
      "  jotgate token verify --key jwks.json --alg ES256,EdDSA --iss https://idp --aud gate -\n"
      "  jotgate token verify --key signer.pem --time 1700000000 --leeway 0 \"$TOKEN\"\n");
  verify_app->callback([verify] { run_verify(*verify); });

  // decode
  auto decode_token = std::make_shared<std::string>();
  CLI::App* decode_app = token->add_subcommand(
      "decode", "Print a JWT's header and payload WITHOUT verifying anything");
  decode_app->add_option("token", *decode_token, "The token, or - to read it from standard input")
      ->required();
  decode_app->footer(
      "Prints {\"verified\": false, \"header\": ..., \"payload\": ...} and a warning on standard "
      "error.\nNothing is checked: not the signature, not exp, not the issuer.\n"
      "Examples:\n"
      "  jotgate token decode eyJhbGciOi...\n"
      "  jotgate token decode - < token.jwt\n");
  decode_app->callback([decode_token] { run_decode(*decode_token); });
}

}  // namespace jotgate::cli
