// GatewayConfig: the YAML configuration as immutable, validated structs. Parsed once; a reload
// builds a new snapshot. Every field has the default documented in docs/configuration.md.
//   auto config = load_config_file("jotgate.yaml");   // Result<GatewayConfig>
//   if (!config) print(config.error().detail);         // "virtual_proxies[1].prefix: ..."
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/identity.h"
#include "base/result.h"
#include "jose/jwt_verifier.h"

namespace jotgate::config {

// The oldest TLS version a listener accepts ("1.2": TLS 1.2 with ECDHE and AEAD suites, and 1.3).
enum class TlsVersion { kTls12, kTls13 };

struct TlsSettings {
  std::string certificate;           // absolute path after load
  std::string key;                   // absolute path after load
  bool generate_if_missing = false;  // both files missing: generate a self-signed pair at start
  TlsVersion min_version = TlsVersion::kTls12;
};

struct Listener {
  std::string name;
  std::string host;  // "0.0.0.0", "127.0.0.1", "::1"
  std::uint16_t port = 0;
  std::optional<TlsSettings> tls;  // none: plain HTTP
  bool trusted = false;            // header authentication accepted only here (issue 5)
};

enum class SameSite { kLax, kStrict, kNone };
enum class SecureMode { kAuto, kAlways, kNever };

struct SessionSettings {
  std::string cookie_name;  // default X-Jotgate-Session-<prefix> / X-Jotgate-Session
  std::int64_t inactivity_timeout_seconds = 30 * 60;
  std::int64_t max_lifetime_seconds = 0;  // 0 = none
  std::int64_t max_per_user = 0;          // sessions per user; one more ends the oldest; 0 = none
  SameSite same_site = SameSite::kLax;
  SecureMode secure = SecureMode::kAuto;
  std::string domain;
  // CHIPS: the cookie is kept per top-level site, so a cross-site iframe keeps its session
  // where browsers drop third-party cookies. Default: on when same_site is none.
  bool partitioned = false;
};

// Keys fetched from an identity provider over HTTPS: `jwks_uri`, or `issuer` with
// `discovery: true` (the jwks_uri of <issuer>/.well-known/openid-configuration).
struct JwksSettings {
  std::string uri;         // jwks_uri; "" with discovery
  bool discovery = false;  // read jwks_uri from the issuer's discovery document
  std::string ca;          // jwks_ca: absolute path of a PEM CA file; "" = the system's store
  std::chrono::milliseconds timeout = std::chrono::seconds(5);  // each fetch, whole
  std::int64_t refresh_seconds = 5 * 60;       // unless Cache-Control max-age (1m..24h) says
  std::int64_t min_refetch_seconds = 30;       // between refetches for an unknown kid
  std::int64_t max_stale_seconds = 24 * 3600;  // last good keys kept this long in an outage
  std::string data_dir;  // the configuration's: the last good document is saved under it
  bool operator==(const JwksSettings&) const = default;
};

// One identity provider whose tokens a virtual proxy accepts: where its keys come from, the
// rules for its claims (verifier.issuer is its issuer) and the claims it forwards.
struct JwtProvider {
  std::string key;                   // absolute path: PEM certificate, PEM public key or JWKS
  std::string key_pem;               // instead of `key`: the PEM text itself (public material)
  std::optional<JwksSettings> jwks;  // instead of `key`: keys fetched from the provider
  jose::KeySet keys;                 // loaded from `key` at validation (start-up reads it once)
  // Why `keys` is empty when a reload could not use the key file (KeyFiles::kMayFail):
  // "<file>:<line>:<col>: <yaml.path>: <problem>". Empty when the keys loaded.
  std::string keys_problem;
  jose::VerifierSettings verifier;  // algorithms, claims, issuer, audience, leeway
  std::map<std::string, std::string> forward_claims;  // claim name -> upstream header name
};

struct JwtSettings {
  // One in the single-provider form (the provider's keys directly under auth.jwt); with
  // `providers:` each has a distinct issuer, and the token's `iss` picks the provider.
  std::vector<JwtProvider> providers;
  bool by_issuer = false;              // `providers:` was used
  bool forward_authorization = false;  // pass the client's Authorization upstream
  std::size_t token_cache = 10000;     // verified tokens remembered (by SHA-256); 0 = no cache
  // Every provider's forward_claims (claim name -> header): the headers the gate controls.
  std::map<std::string, std::string> all_forward_claims() const;
};

// auth.method: header. A fronting SSO names the user in a header; accepted only on listeners
// marked trusted (anyone can send a header to the others).
struct HeaderAuthSettings {
  std::string user_header;       // required
  std::string directory_header;  // the directory from a second header, or
  std::string directory;         // a constant; neither: user_header holds "DIRECTORY\id"
};

enum class AuthMethod { kJwt, kHeader, kTicket };
// none: credentials required; allow: without credentials a generated anonymous user (signing
// in still works); always: every user is anonymous.
enum class AnonymousMode { kNone, kAllow, kAlways };

// auth.failure_limit: refused sign-ins allowed per client address, `failures` per
// `window_seconds` ("60/m"); failures 0 ("off"): no limit.
struct FailureLimit {
  std::int64_t failures = 60;
  std::int64_t window_seconds = 60;
  bool enabled() const { return failures > 0; }
  bool operator==(const FailureLimit&) const = default;
};

// "60/m", "5/s", "1000/h"; "off" or "0" for none. nullopt: not of that form (N from 1 to
// 1000000).
std::optional<FailureLimit> parse_failure_limit(std::string_view text);

struct AuthSettings {
  AuthMethod method = AuthMethod::kJwt;
  JwtSettings jwt;            // method jwt
  HeaderAuthSettings header;  // method header
  AnonymousMode anonymous = AnonymousMode::kNone;
  // Where a browser navigation without a session is sent, with returnTo=<the URL it asked
  // for> (a sign-in page); "" answers 401 as for any request.
  std::string redirect_uri;
  std::int64_t ticket_lifetime_seconds = 60;  // admin API tickets
  // Attributes given by the admin API (tickets, sessions) that go upstream: name -> header.
  // Only these are accepted, so a client can never send one of its own (they are stripped).
  std::map<std::string, std::string> forward_attributes;
  // The gateway's own endpoints under /<prefix>/<endpoint>/ (me, logout): never forwarded.
  std::string endpoint = ".auth";
  FailureLimit failure_limit;
};

std::string_view auth_method_name(AuthMethod method);

struct Upstream {
  std::string url;   // as written, for messages
  bool tls = false;  // https
  std::string host;
  std::uint16_t port = 0;
  std::string base_path;  // path prefix of the upstream URL, "" when none
};

struct VirtualProxy {
  std::string name;
  std::string prefix;  // "" serves the root; [a-z0-9._-]
  std::vector<std::string> listeners;
  std::vector<Upstream> upstreams;
  bool strip_prefix = true;
  SessionSettings session;
  AuthSettings auth;
  std::string identity_header = "X-Jotgate-User";
  // Client header names holding '_' are dropped unless true (then only those naming a header
  // the gateway controls, '_' read as '-').
  bool allow_underscores_in_headers = false;
  std::string logout_redirect_uri;  // where .auth/logout sends the browser; "" = 204
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::vector<std::string> host_allow_list;
  // CORS: exact origins ("https://app.example.com") whose pages may call this virtual proxy
  // with credentials; preflights are answered by the gateway. Empty: no CORS headers.
  std::vector<std::string> cors_allowed_origins;
  // Upstream timeouts.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds read_timeout = std::chrono::seconds(60);
  // Created through the admin API and kept in the database, not written in the file.
  bool from_database = false;
};

enum class AccessMode { kAllocated, kOpen };

struct AccessSettings {
  AccessMode mode = AccessMode::kAllocated;
  std::int64_t auto_allocate_seats = 0;
  std::vector<std::string> allocations;  // "DIRECTORY\\id"
  bool operator==(const AccessSettings&) const = default;
};

// Where sessions live. memory: in the gateway's memory, saved to <data_dir>/sessions.db at a
// graceful stop and every save_interval, read back at start. redis: in a Redis server that
// every node of a cluster shares (sessions, tickets, anonymous sessions).
enum class SessionStoreType { kMemory, kRedis };

struct RedisStoreSettings {
  std::string url;            // redis://host:port/db or rediss:// (TLS)
  std::string password;       // read from password_file at load: a secret, never logged
  std::string password_file;  // absolute; "" = none
  std::string key_prefix = "jotgate:";
  std::string ca;  // rediss://: absolute path of the CA of the server's certificate; "" = system
  bool operator==(const RedisStoreSettings&) const = default;
};

struct SessionStoreSettings {
  SessionStoreType type = SessionStoreType::kMemory;
  std::int64_t save_interval_seconds = 60;  // memory: 0 = only at a graceful stop
  RedisStoreSettings redis;                 // type redis
  bool operator==(const SessionStoreSettings&) const = default;
};

// Where access allocations, seats and revocations live. sqlite: <data_dir>/jotgate.db (the
// default); postgresql: a server shared by several gateway nodes.
enum class DatabaseType { kSqlite, kPostgresql };

struct DatabaseSettings {
  DatabaseType type = DatabaseType::kSqlite;
  std::string url;            // postgresql: a libpq connection URI (postgresql:// or postgres://)
  std::string password_file;  // absolute path, "" = none
  std::string password;       // read from password_file at load, trailing newline stripped
  bool operator==(const DatabaseSettings&) const = default;
};

enum class LogFormat { kText, kJson };

struct Limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_request_line = 8 * 1024;
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(10);
  // A request body must keep coming: each read within body_timeout, and all of it by
  // body_timeout + bytes / body_min_rate seconds from its start (a trickle is cut, a large
  // upload at a sane rate is not). 0 for the rate: only the wait between reads is bounded.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
  std::uint64_t body_min_rate = 1024;   // bytes per second
  std::size_t max_connections = 10000;  // per listener; more are closed at once
  // TLS handshake (gateway and admin listeners).
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
};

// The admin listener (the `admin` section): the ticket and session API under /api/v1, TLS only,
// for clients with a certificate signed by client_ca or the bearer token in token_file.
struct AdminSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4243;
  TlsSettings tls;         // required; both files missing: a self-signed pair is generated
  std::string client_ca;   // absolute path of a PEM CA, "" = no client certificates
  std::string token_file;  // absolute path of a file holding the token, "" = no token
};

// The ops listener (the `ops` section): /healthz, /readyz and /metrics over plain HTTP.
struct OpsSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9100;
};

struct GatewayConfig {
  std::string source;    // the file it came from, or "<embedded default>"
  std::string data_dir;  // absolute
  std::vector<Listener> listeners;
  std::vector<VirtualProxy> virtual_proxies;
  AccessSettings access;
  SessionStoreSettings session_store;
  DatabaseSettings database;
  LogFormat log_format = LogFormat::kText;
  std::string access_log;          // "" = standard output
  bool access_log_enabled = true;  // false: `access_log: off`
  Limits limits;
  std::optional<AdminSettings> admin;  // none: no admin listener
  bool watch = false;                  // reload when the file, a key or a certificate changes
  std::optional<OpsSettings> ops;      // none: no ops listener
};

// Parses and validates YAML text. `base_dir` resolves relative paths. Errors come as one
// Error whose detail lists every problem, one per line, each "<yaml.path>: <what is wrong>".
// Key files that cannot be used are configuration errors at start (kRequired). A reload
// (kMayFail) applies the rest of the file and runs that virtual proxy without usable keys
// (JwtSettings::keys_problem): answered 503 KEYS_UNAVAILABLE, reported by /readyz.
// A yaml-cpp exception that escapes the reader is a bug of ours (the fuzzers look for them),
// but a reload or an admin API call must answer it as an error starting with kReaderBug, never
// end a serving gateway.
enum class KeyFiles { kRequired, kMayFail };
inline constexpr std::string_view kReaderBug = "internal error of the configuration reader";
Result<GatewayConfig> parse_config(const std::string& yaml_text, const std::string& source,
                                   const std::string& base_dir,
                                   KeyFiles key_files = KeyFiles::kRequired);
Result<GatewayConfig> load_config_file(const std::string& path,
                                       KeyFiles key_files = KeyFiles::kRequired);

// A problem of one value: its YAML path ("session.inactivity_timeout") and what is wrong.
struct FieldProblem {
  std::string field;
  std::string message;
  bool operator==(const FieldProblem&) const = default;
};

// One virtual proxy document: a `virtual_proxies` item as JSON (which is YAML, read by the same
// parser as the file) with its listeners among `base`'s and its keys' data under base.data_dir.
// Problems name the path relative to the virtual proxy. `source` names the document in
// keys_problem lines. Names and prefixes of other virtual proxies are not looked at.
struct VirtualProxyDocument {
  std::optional<VirtualProxy> virtual_proxy;  // none: `problems` says why
  std::vector<FieldProblem> problems;
};
VirtualProxyDocument parse_virtual_proxy_document(std::string_view text, const GatewayConfig& base,
                                                  const std::string& source,
                                                  KeyFiles key_files = KeyFiles::kRequired);

// The data_dir a configuration file names (absolute; the default when it names none), read
// without validating anything else: `jotgate reload` finds the gateway there even when the
// file has become invalid.
std::string data_dir_of(const std::string& path);

// "ACME\\alice" into its directory and id; nullopt unless exactly one backslash separates two
// non-empty parts without control characters or ';'.
std::optional<UserIdentity> parse_qualified_user(std::string_view text);

// The lines of a config error's detail, each "<file>:<line>:<column>: <yaml.path>: <problem>",
// for `config check` and `serve` to print the same way.
std::vector<std::string> error_lines(const Error& error);

}  // namespace jotgate::config
