// GatewayConfig parsing: defaults, and one test per kind of error, each checking the exact
// place (file:line:column and YAML path) and message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "base/duration.h"
#include "config/gateway_config.h"

namespace jotgate::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    fs::copy_file(std::string(JOTGATE_TEST_DATA) + "/keys/rsa_cert.pem", dir_ / "signer.pem",
                  fs::copy_options::overwrite_existing);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<GatewayConfig> parse(const std::string& yaml) {
    return parse_config(yaml, "t.yaml", dir_.string());
  }
  // The errors of an invalid config, one per line.
  std::vector<std::string> errors(const std::string& yaml) {
    auto config = parse(yaml);
    EXPECT_FALSE(config.ok());
    if (config) return {};
    return error_lines(config.error());
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }
  static std::string vp(const std::string& extra = "", const std::string& prefix = "jwt",
                        const std::string& name = "A") {
    return "  - name: " + name + "\n    prefix: \"" + prefix +
           "\"\n    listeners: [http]\n    upstreams: [http://127.0.0.1:9000]\n"
           "    auth:\n      method: jwt\n      jwt:\n        key: signer.pem\n" +
           extra;
  }
  static std::string with(const std::string& vps, const std::string& tail = "") {
    return "listeners:\n  - name: http\n    address: 127.0.0.1:8080\nvirtual_proxies:\n" + vps +
           tail;
  }
  fs::path dir_;
};

TEST_F(ConfigTest, MinimalConfigHasTheDocumentedDefaults) {
  auto config = parse(with(vp()));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->source, "t.yaml");
  EXPECT_EQ(config->data_dir, (dir_ / "jotgate-data").string());
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0].host, "127.0.0.1");
  EXPECT_EQ(config->listeners[0].port, 8080);
  EXPECT_FALSE(config->listeners[0].tls);
  const VirtualProxy& v = config->virtual_proxies.at(0);
  EXPECT_EQ(v.session.cookie_name, "X-Jotgate-Session-jwt");
  EXPECT_EQ(v.session.inactivity_timeout_seconds, 1800);
  EXPECT_EQ(v.session.max_lifetime_seconds, 0);
  EXPECT_EQ(v.session.max_per_user, 0);  // no limit
  EXPECT_EQ(v.session.same_site, SameSite::kLax);
  EXPECT_EQ(v.session.secure, SecureMode::kAuto);
  EXPECT_FALSE(v.session.partitioned);  // same_site lax
  EXPECT_TRUE(v.strip_prefix);
  EXPECT_EQ(v.identity_header, "X-Jotgate-User");
  EXPECT_FALSE(v.allow_underscores_in_headers);
  EXPECT_EQ(v.auth.jwt.providers[0].key, (dir_ / "signer.pem").string());
  EXPECT_FALSE(v.auth.jwt.providers[0].keys.empty());
  EXPECT_EQ(v.auth.jwt.providers[0].verifier.algorithms, jose::default_algorithms());
  EXPECT_EQ(v.auth.jwt.providers[0].verifier.user_id_claim, "userId");
  EXPECT_EQ(v.auth.jwt.providers[0].verifier.leeway_seconds, 60);
  EXPECT_EQ(v.upstreams.at(0).host, "127.0.0.1");
  EXPECT_EQ(v.upstreams.at(0).port, 9000);
  EXPECT_EQ(config->access.mode, AccessMode::kAllocated);
  EXPECT_EQ(config->session_store.type, SessionStoreType::kMemory);
  EXPECT_EQ(config->session_store.save_interval_seconds, 60);
  EXPECT_EQ(config->log_format, LogFormat::kText);
}

TEST_F(ConfigTest, SessionStoreSettings) {
  auto config = parse(with(vp(), "session_store: { type: memory, save_interval: 5m }\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->session_store.save_interval_seconds, 300);
  auto off = parse(with(vp(), "session_store: { save_interval: 0 }\n"));
  ASSERT_TRUE(off.ok()) << off.error().detail;
  EXPECT_EQ(off->session_store.save_interval_seconds, 0);
}

TEST_F(ConfigTest, SessionMaxPerUser) {
  auto config = parse(with(vp("    session: { max_per_user: 2 }\n")));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->virtual_proxies[0].session.max_per_user, 2);
  auto e = errors(with(vp("    session: { max_per_user: -1 }\n") +
                       vp("    session:\n      max_per_user: two\n", "b", "B") +
                       vp("    session: { max_per_user: 1.5 }\n", "c", "C")));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0],
            "t.yaml:13:30: virtual_proxies[0].session.max_per_user: expected a whole number >= 0");
  EXPECT_EQ(e[1],
            "t.yaml:23:21: virtual_proxies[1].session.max_per_user: expected a whole number >= 0");
  EXPECT_EQ(e[2],
            "t.yaml:32:30: virtual_proxies[2].session.max_per_user: expected a whole number >= 0");
}

// The fuzzer's finds: a virtual proxy without a prefix, and a list item that is not a mapping
// ahead of a Redis-store virtual proxy, are errors with their place, never an exception.
TEST_F(ConfigTest, VirtualProxyWithoutPrefixIsAnError) {
  std::string no_prefix = vp();
  no_prefix.erase(no_prefix.find("    prefix: \"jwt\"\n"), 18);
  auto e = errors(with(no_prefix));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:5:5: virtual_proxies[0].prefix: a prefix is required (\"\" serves the root)");
}

TEST_F(ConfigTest, MaxPerUserWithRedisIsRefusedAfterAnItemThatIsNotAMapping) {
  auto e = errors(with("  - just a string\n" + vp("    session: { max_per_user: 2 }\n"),
                       "session_store: { type: redis, url: \"redis://r\" }\n"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "t.yaml:5:5: virtual_proxies[0]: expected a mapping");
  EXPECT_EQ(e[1],
            "t.yaml:14:30: virtual_proxies[1].session.max_per_user: is not supported with "
            "session_store type redis (leave it 0)");
}

TEST_F(ConfigTest, SessionStoreErrors) {
  auto e = errors(with(vp(), "session_store:\n  type: disk\n  save_interval: 1ms\n  path: x\n"));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0],
            "t.yaml:16:3: session_store.path: unknown key (expected one of: type, save_interval, "
            "url, password_file, key_prefix, ca)");
  EXPECT_EQ(e[1],
            "t.yaml:14:9: session_store.type: \"disk\" is not a session store type (expected: "
            "memory, redis)");
  EXPECT_EQ(e[2],
            "t.yaml:15:18: session_store.save_interval: expected a duration such as 90s, 30m, 8h, "
            "2d or whole seconds");
  e = errors(with(vp(), "session_store: { url: \"redis://h:6379\", key_prefix: a }\n"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "t.yaml:13:23: session_store.url: is only for type redis");
  EXPECT_EQ(e[1], "t.yaml:13:53: session_store.key_prefix: is only for type redis");
}

TEST_F(ConfigTest, RedisSessionStore) {
  write("redis.password", "s3cret\n");
  auto config = parse(with(vp(),
                           "session_store:\n  type: redis\n  url: redis://10.0.0.5:6380/2\n"
                           "  password_file: redis.password\n  key_prefix: \"acme:\"\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const RedisStoreSettings& redis = config->session_store.redis;
  EXPECT_EQ(config->session_store.type, SessionStoreType::kRedis);
  EXPECT_EQ(redis.url, "redis://10.0.0.5:6380/2");
  EXPECT_EQ(redis.password, "s3cret");
  EXPECT_EQ(redis.password_file, (dir_ / "redis.password").string());
  EXPECT_EQ(redis.key_prefix, "acme:");
  EXPECT_EQ(redis.ca, "");
  auto defaults = parse(with(vp(), "session_store: { type: redis, url: \"redis://r\" }\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.error().detail;
  EXPECT_EQ(defaults->session_store.redis.key_prefix, "jotgate:");
  EXPECT_EQ(defaults->session_store.redis.password, "");
  write("ca.pem", "not checked here");
  auto tls =
      parse(with(vp(), "session_store: { type: redis, url: \"rediss://r:6380\", ca: ca.pem }\n"));
  ASSERT_TRUE(tls.ok()) << tls.error().detail;
  EXPECT_EQ(tls->session_store.redis.ca, (dir_ / "ca.pem").string());
}

TEST_F(ConfigTest, RedisSessionStoreErrors) {
  write("empty.password", "\n");
  write("ca.pem", "x");
  auto e = errors(with(vp(), "session_store: { type: redis }\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:13:16: session_store.url: is required for type redis (redis://host:port/db "
            "or rediss://)");
  e = errors(with(vp(),
                  "session_store:\n  type: redis\n  url: \"http://u:pw@r:6379\"\n"
                  "  password_file: missing.password\n  save_interval: 10s\n"));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0],
            "t.yaml:17:18: session_store.save_interval: is only for type memory (Redis keeps the "
            "sessions)");
  EXPECT_EQ(e[1],
            "t.yaml:15:8: session_store.url: \"http://u@r:6379\" is not a redis:// or "
            "rediss:// URL");
  EXPECT_EQ(e[2], "t.yaml:16:18: session_store.password_file: " +
                      (dir_ / "missing.password").string() + " does not exist or cannot be read");
  e = errors(with(vp(),
                  "session_store:\n  type: redis\n  url: redis://r\n"
                  "  password_file: empty.password\n  ca: ca.pem\n"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "t.yaml:16:18: session_store.password_file: " +
                      (dir_ / "empty.password").string() + " is empty");
  EXPECT_EQ(e[1], "t.yaml:17:7: session_store.ca: is only for a rediss:// (TLS) url");
  e = errors(with(vp() + vp("    session: { max_per_user: 2 }\n", "b", "B"),
                  "session_store: { type: redis, url: \"redis://r\" }\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:21:30: virtual_proxies[1].session.max_per_user: is not supported with "
            "session_store type redis (leave it 0)");
  e = errors(with(vp(), "session_store: { type: redis, url: \"rediss://r\", ca: nope.pem }\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:13:54: session_store.ca: " + (dir_ / "nope.pem").string() +
                      " does not exist or is not a file");
}

TEST_F(ConfigTest, FullExampleParses) {
  auto config = parse(
      "data_dir: /var/lib/jg\nlog_format: json\naccess_log: logs/access.log\n"
      "limits: { max_header_bytes: 8192, header_timeout: 5s }\n" +
      with(vp("        algorithms: [RS256, ES256]\n        user_directory: ACME\n"
              "        issuer: https://idp\n        audience: gate\n        leeway: 90s\n"
              "        forward_claims: { groups: X-Groups }\n"
              "    session: { cookie_name: sid, inactivity_timeout: 8h, max_lifetime: 30m,"
              " same_site: none, secure: always, domain: example.test }\n"
              "    response_headers: { X-Frame-Options: SAMEORIGIN }\n"
              "    host_allow_list: [gate.example.test]\n    read_timeout: 2m\n",
              "") +
               vp("", "other", "B"),
           "access: { mode: open, auto_allocate_seats: 3, allocations: [\"ACME\\\\alice\"] }\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->data_dir, "/var/lib/jg");
  EXPECT_EQ(config->access_log, (dir_ / "logs/access.log").string());
  EXPECT_EQ(config->log_format, LogFormat::kJson);
  EXPECT_EQ(config->limits.max_header_bytes, 8192u);
  EXPECT_EQ(config->limits.header_timeout, 5s);
  const VirtualProxy& root = config->virtual_proxies[0];
  EXPECT_EQ(root.session.cookie_name, "sid");
  EXPECT_EQ(root.session.cookie_name, "sid");
  EXPECT_EQ(root.session.inactivity_timeout_seconds, 8 * 3600);
  EXPECT_EQ(root.session.max_lifetime_seconds, 1800);
  EXPECT_EQ(root.session.same_site, SameSite::kNone);
  EXPECT_TRUE(root.session.partitioned);  // on by default with same_site none
  EXPECT_EQ(root.session.domain, "example.test");
  EXPECT_EQ(root.auth.jwt.providers[0].verifier.user_directory, std::optional<std::string>("ACME"));
  EXPECT_EQ(root.auth.jwt.providers[0].verifier.audiences, std::vector<std::string>{"gate"});
  EXPECT_EQ(root.auth.jwt.providers[0].verifier.leeway_seconds, 90);
  EXPECT_EQ(root.auth.jwt.providers[0].forward_claims.at("groups"), "X-Groups");
  EXPECT_EQ(root.read_timeout, 120s);
  EXPECT_EQ(root.response_headers.at(0).first, "X-Frame-Options");
  EXPECT_EQ(config->access.mode, AccessMode::kOpen);
  EXPECT_EQ(config->access.auto_allocate_seats, 3);
  EXPECT_EQ(config->access.allocations, std::vector<std::string>{"ACME\\alice"});
}

TEST_F(ConfigTest, RootPrefixGetsThePlainCookieName) {
  auto config = parse(with(vp("", "")));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->virtual_proxies[0].prefix, "");
  EXPECT_EQ(config->virtual_proxies[0].session.cookie_name, "X-Jotgate-Session");
}

TEST_F(ConfigTest, Ipv6ListenerAndUpstreamPath) {
  auto config = parse(
      "listeners:\n  - name: http\n    address: \"[::1]:8443\"\nvirtual_proxies:\n"
      "  - name: A\n    prefix: a\n    listeners: [http]\n"
      "    upstreams: [\"https://[::1]:9443/base/\", http://engine]\n"
      "    auth: { jwt: { key: signer.pem } }\n");
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->listeners[0].host, "::1");
  EXPECT_EQ(config->listeners[0].port, 8443);
  const auto& up = config->virtual_proxies[0].upstreams;
  EXPECT_TRUE(up[0].tls);
  EXPECT_EQ(up[0].host, "::1");
  EXPECT_EQ(up[0].port, 9443);
  EXPECT_EQ(up[0].base_path, "/base");
  EXPECT_EQ(up[1].port, 80);
}

// Port 0: the system chooses one at start, and `jotgate serve` prints it (the e2e tests rely
// on this); 65536 is not a port.
TEST_F(ConfigTest, PortZeroIsAcceptedForListenersAndTheAdminListener) {
  std::ofstream(dir_ / "admin.token") << "secret\n";
  auto config =
      parse("listeners:\n  - name: http\n    address: 127.0.0.1:0\nvirtual_proxies:\n" + vp() +
            "admin: { address: \"[::1]:0\", token_file: admin.token,"
            " tls: { certificate: a.pem, key: a_key.pem } }\n");
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->listeners[0].port, 0);
  ASSERT_TRUE(config->admin);
  EXPECT_EQ(config->admin->host, "::1");
  EXPECT_EQ(config->admin->port, 0);
  auto e =
      errors("listeners:\n  - name: http\n    address: 127.0.0.1:65536\nvirtual_proxies:\n" + vp());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:3:14: listeners[0].address: \"127.0.0.1:65536\" is not host:port "
            "(IPv6: [::1]:8443)");
}

TEST_F(ConfigTest, DuplicatePrefixNamesBothPlaces) {
  auto e = errors(with(vp() + vp("", "jwt", "B")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:14:13: virtual_proxies[1].prefix: \"jwt\" is already used by "
            "virtual_proxies[0]");
}

TEST_F(ConfigTest, DuplicateName) {
  auto e = errors(with(vp() + vp("", "b", "A")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:13:11: virtual_proxies[1].name: \"A\" is already used by "
            "virtual_proxies[0]");
}

TEST_F(ConfigTest, PrefixCharacters) {
  auto e = errors(with(vp("", "Jwt/x")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:6:13: virtual_proxies[0].prefix: \"Jwt/x\" may only contain a-z, 0-9, "
            "'.', '_' and '-' (\"\" serves the root)");
}

TEST_F(ConfigTest, UnknownKeysAreErrorsWithTheirPath) {
  auto e = errors(with(vp("    sesion: {}\n"), "acces: {}\n"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[0].starts_with("t.yaml:14:1: acces: unknown key (expected one of: data_dir,"))
      << e[0];
  EXPECT_TRUE(e[1].starts_with("t.yaml:13:5: virtual_proxies[0].sesion: unknown key")) << e[1];
}

TEST_F(ConfigTest, AllErrorsAreCollected) {
  auto e =
      errors(with(vp("        algorithms: [RS256, RS384, XS256]\n", "jwt") + vp("", "jwt", "B")));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0],
            "t.yaml:13:36: virtual_proxies[0].auth.jwt.algorithms[2]: unknown algorithm "
            "\"XS256\"");
  EXPECT_TRUE(e[1].find("virtual_proxies[1].prefix") != std::string::npos);
}

TEST_F(ConfigTest, UnknownListener) {
  auto e = errors(
      "listeners:\n  - name: http\n    address: 127.0.0.1:1\nvirtual_proxies:\n"
      "  - name: A\n    prefix: a\n    listeners: [http, https]\n"
      "    upstreams: [http://h:1]\n    auth: { jwt: { key: signer.pem } }\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:7:23: virtual_proxies[0].listeners[1]: no listener is named \"https\"");
}

TEST_F(ConfigTest, BadAddressAndDuplicateListener) {
  auto e = errors(
      "listeners:\n  - name: http\n    address: 127.0.0.1\n  - name: http\n"
      "    address: \"::1:80\"\nvirtual_proxies:\n" +
      vp());
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0],
            "t.yaml:3:14: listeners[0].address: \"127.0.0.1\" is not host:port (IPv6: "
            "[::1]:8443)");
  EXPECT_EQ(e[1], "t.yaml:4:11: listeners[1].name: \"http\" is already used by listeners[0]");
  EXPECT_TRUE(e[2].starts_with("t.yaml:5:14: listeners[1].address: \"::1:80\""));
}

TEST_F(ConfigTest, TlsBothMissingMeansGenerateOneMissingIsAnError) {
  auto ok = parse(
      "listeners:\n  - name: http\n    address: 127.0.0.1:1\n"
      "    tls: { certificate: s.pem, key: s_key.pem }\nvirtual_proxies:\n" +
      vp());
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  ASSERT_TRUE(ok->listeners[0].tls);
  EXPECT_TRUE(ok->listeners[0].tls->generate_if_missing);
  EXPECT_EQ(ok->listeners[0].tls->certificate, (dir_ / "s.pem").string());
  std::ofstream(dir_ / "s.pem") << "x";
  auto e = errors(
      "listeners:\n  - name: http\n    address: 127.0.0.1:1\n"
      "    tls: { certificate: s.pem, key: s_key.pem }\nvirtual_proxies:\n" +
      vp());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:4:10: listeners[0].tls: " + (dir_ / "s_key.pem").string() +
                      " is missing while " + (dir_ / "s.pem").string() +
                      " exists (when both are missing a self-signed pair is generated)");
}

TEST_F(ConfigTest, TlsMinVersion) {
  auto tls = [](const std::string& extra) {
    return "listeners:\n  - name: http\n    address: 127.0.0.1:1\n"
           "    tls: { certificate: s.pem, key: s_key.pem" +
           extra + " }\nvirtual_proxies:\n";
  };
  auto fallback = parse(tls("") + vp());
  ASSERT_TRUE(fallback.ok()) << fallback.error().detail;
  EXPECT_EQ(fallback->listeners[0].tls->min_version, TlsVersion::kTls12);
  auto strict = parse(tls(", min_version: \"1.3\"") + vp());
  ASSERT_TRUE(strict.ok()) << strict.error().detail;
  EXPECT_EQ(strict->listeners[0].tls->min_version, TlsVersion::kTls13);
  auto openssl_spelling = parse(tls(", min_version: TLSv1.3") + vp());
  ASSERT_TRUE(openssl_spelling.ok()) << openssl_spelling.error().detail;
  EXPECT_EQ(openssl_spelling->listeners[0].tls->min_version, TlsVersion::kTls13);
  auto e = errors(tls(", min_version: 1.1") + vp());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:4:61: listeners[0].tls.min_version: \"1.1\" is not a TLS version this "
            "gateway offers (expected \"1.2\" or \"1.3\")");
}

TEST_F(ConfigTest, BodyTimeoutAndMinimumRate) {
  auto defaults = parse(with(vp()));
  ASSERT_TRUE(defaults.ok()) << defaults.error().detail;
  EXPECT_EQ(defaults->limits.body_timeout, 30s);
  EXPECT_EQ(defaults->limits.body_min_rate, 1024u);
  auto set = parse("limits: { body_timeout: 5s, body_min_rate: 0 }\n" + with(vp()));
  ASSERT_TRUE(set.ok()) << set.error().detail;
  EXPECT_EQ(set->limits.body_timeout, 5s);
  EXPECT_EQ(set->limits.body_min_rate, 0u);
  auto e = errors("limits: { body_timeout: 0s, body_min_rate: -1 }\n" + with(vp()));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0],
            "t.yaml:1:25: limits.body_timeout: must be > 0 (a request body cannot arrive "
            "in no time)");
  EXPECT_EQ(e[1], "t.yaml:1:44: limits.body_min_rate: expected a whole number >= 0");
}

TEST_F(ConfigTest, ConnectionLimitsAndHandshakeTimeout) {
  auto defaults = parse(with(vp()));
  ASSERT_TRUE(defaults.ok()) << defaults.error().detail;
  EXPECT_EQ(defaults->limits.max_connections, 10000u);
  EXPECT_EQ(defaults->limits.handshake_timeout, 10s);
  auto set = parse("limits: { max_connections: 5, handshake_timeout: 2s }\n" + with(vp()));
  ASSERT_TRUE(set.ok()) << set.error().detail;
  EXPECT_EQ(set->limits.max_connections, 5u);
  EXPECT_EQ(set->limits.handshake_timeout, 2s);
  auto e = errors("limits: { max_connections: 0, handshake_timeout: 0s }\n" + with(vp()));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "t.yaml:1:28: limits.max_connections: must be > 0");
  EXPECT_EQ(e[1],
            "t.yaml:1:50: limits.handshake_timeout: must be > 0 (no TLS handshake "
            "finishes in no time)");
}

// Timeouts take milliseconds (tests use them instead of sleeping whole seconds); lifetimes
// counted in whole seconds do not.
TEST_F(ConfigTest, TimeoutsTakeMillisecondsLifetimesWholeSeconds) {
  auto config = parse(
      "limits: { header_timeout: 250ms, idle_timeout: 1500ms, shutdown_grace: 0ms,"
      " body_timeout: 300ms, handshake_timeout: 1ms }\n" +
      with(vp("    connect_timeout: 100ms\n    read_timeout: 2500ms\n")));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->limits.header_timeout, 250ms);
  EXPECT_EQ(config->limits.idle_timeout, 1500ms);
  EXPECT_EQ(config->limits.shutdown_grace, 0ms);
  EXPECT_EQ(config->limits.body_timeout, 300ms);
  EXPECT_EQ(config->limits.handshake_timeout, 1ms);
  EXPECT_EQ(config->virtual_proxies[0].connect_timeout, 100ms);
  EXPECT_EQ(config->virtual_proxies[0].read_timeout, 2500ms);
  auto e = errors("limits: { header_timeout: 5mss, body_timeout: 0ms }\n" +
                  with(vp("    session: { inactivity_timeout: 500ms }\n")));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0],
            "t.yaml:14:36: virtual_proxies[0].session.inactivity_timeout: expected a "
            "duration such as 90s, 30m, 8h, 2d or whole seconds");
  EXPECT_EQ(e[1],
            "t.yaml:1:27: limits.header_timeout: expected a duration such as 250ms, 90s, "
            "30m, 8h, 2d or whole seconds");
  EXPECT_EQ(e[2],
            "t.yaml:1:47: limits.body_timeout: must be > 0 (a request body cannot arrive "
            "in no time)");
}

TEST_F(ConfigTest, UpstreamsMayBeLeftOutForForwardAuthentication) {
  std::string yaml = with(vp());
  yaml.erase(yaml.find("    upstreams: [http://127.0.0.1:9000]\n"), 38);
  auto config = parse(yaml);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_TRUE(config->virtual_proxies[0].upstreams.empty());
}

TEST_F(ConfigTest, FailureLimit) {
  auto config = parse(with(vp()));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->virtual_proxies[0].auth.failure_limit, (FailureLimit{60, 60}));
  const auto limit_of = [&](const std::string& value) -> std::optional<FailureLimit> {
    std::string yaml = with(vp());
    yaml.replace(yaml.find("method: jwt"), 11, "method: jwt\n      failure_limit: " + value);
    auto parsed = parse(yaml);
    if (!parsed) return std::nullopt;
    return parsed->virtual_proxies[0].auth.failure_limit;
  };
  EXPECT_EQ(limit_of("5/s"), (FailureLimit{5, 1}));
  EXPECT_EQ(limit_of("3/m"), (FailureLimit{3, 60}));
  EXPECT_EQ(limit_of("1000/h"), (FailureLimit{1000, 3600}));
  EXPECT_FALSE(limit_of("off")->enabled());
  EXPECT_FALSE(limit_of("0")->enabled());
  for (std::string bad : {"60", "60/d", "0/m", "-1/m", "/m", "1/mm", "1000001/s", "x/m"}) {
    EXPECT_FALSE(limit_of(bad)) << bad;
  }
  std::string yaml = with(vp());
  yaml.replace(yaml.find("method: jwt"), 11, "method: jwt\n      failure_limit: 10/week");
  auto e = errors(yaml);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:11:22: virtual_proxies[0].auth.failure_limit: expected failures per second, "
            "minute or hour (N/s, N/m, N/h, N from 1 to 1000000), or off");
}

TEST_F(ConfigTest, UpstreamUrl) {
  auto e =
      errors(with(vp("    upstreams: [ftp://x]\n")
                      .replace(vp().find("    upstreams: [http://127.0.0.1:9000]\n"), 38, "")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].upstreams[0]: \"ftp://x\" is not "
                     "http(s)://host:port[/path]"))
      << e[0];
}

TEST_F(ConfigTest, CookieNameAndSameSiteNoneWithoutSecure) {
  auto e =
      errors(with(vp("    session: { cookie_name: \"a b\", same_site: none, secure: never }\n")));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].session.cookie_name: \"a b\" is not a valid "
                     "cookie name"))
      << e[0];
  EXPECT_TRUE(
      e[1].ends_with("virtual_proxies[0].session.same_site: none requires secure cookies "
                     "(secure: auto or always, not never)"))
      << e[1];
}

TEST_F(ConfigTest, PartitionedCanBeTurnedOffAndNeedsSecure) {
  auto off = parse(with(vp("    session: { same_site: none, partitioned: false }\n")));
  ASSERT_TRUE(off.ok()) << off.error().detail;
  EXPECT_FALSE(off->virtual_proxies[0].session.partitioned);
  auto e = errors(with(vp("    session: { same_site: lax, secure: never, partitioned: true }\n")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].session.partitioned: true requires secure "
                     "cookies (secure: auto or always, not never): browsers drop a "
                     "Partitioned cookie without Secure"))
      << e[0];
  auto bad = errors(with(vp("    session: { partitioned: sometimes }\n")));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_TRUE(bad[0].ends_with("virtual_proxies[0].session.partitioned: expected true or false"))
      << bad[0];
}

TEST_F(ConfigTest, AllowUnderscoresInHeadersIsABoolean) {
  auto on = parse(with(vp("    allow_underscores_in_headers: true\n")));
  ASSERT_TRUE(on.ok()) << on.error().detail;
  EXPECT_TRUE(on->virtual_proxies[0].allow_underscores_in_headers);
  auto bad = errors(with(vp("    allow_underscores_in_headers: sometimes\n")));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0],
            "t.yaml:13:35: virtual_proxies[0].allow_underscores_in_headers: expected true "
            "or false");
}

TEST_F(ConfigTest, AuthEndpointAndLogoutRedirect) {
  auto ok = parse(with(vp("    logout_redirect_uri: https://portal.test/bye\n")));
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(ok->virtual_proxies[0].auth.endpoint, ".auth");
  EXPECT_EQ(ok->virtual_proxies[0].logout_redirect_uri, "https://portal.test/bye");
  auto e = errors(with(vp("    logout_redirect_uri: //evil.test/x\n")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].logout_redirect_uri: \"//evil.test/x\" is not "
                     "an http(s) URL or a path starting with /"))
      << e[0];
  e = errors(with(vp("    logout_redirect_uri: javascript:alert(1)\n")));
  ASSERT_EQ(e.size(), 1u);
  std::string custom = vp();
  custom.replace(custom.find("method: jwt"), 11, "method: jwt\n      endpoint: _gate");
  auto named = parse(with(custom));
  ASSERT_TRUE(named.ok()) << named.error().detail;
  EXPECT_EQ(named->virtual_proxies[0].auth.endpoint, "_gate");
  std::string bad = vp();
  bad.replace(bad.find("method: jwt"), 11, "method: jwt\n      endpoint: a/b");
  e = errors(with(bad));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].auth.endpoint: \"a/b\" is not one path segment "
                     "of letters, digits, '.', '_' or '-'"))
      << e[0];
}

TEST_F(ConfigTest, CorsOriginsAreExact) {
  auto ok =
      parse(with(vp("    cors: { allowed_origins: [\"https://app.test\", "
                    "\"http://localhost:8080\"] }\n")));
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(ok->virtual_proxies[0].cors_allowed_origins,
            (std::vector<std::string>{"https://app.test", "http://localhost:8080"}));
  auto e =
      errors(with(vp("    cors: { allowed_origins: [\"*\", \"https://a.test/\", "
                     "\"https://A.test\", \"ftp://a.test\", \"https://*.a.test\"] }\n")));
  ASSERT_EQ(e.size(), 5u);
  EXPECT_TRUE(
      e[1].ends_with("virtual_proxies[0].cors.allowed_origins[1]: \"https://a.test/\" is "
                     "not an origin such as https://app.example.com (lower case, no "
                     "path, no wildcard)"))
      << e[1];
  e = errors(with(vp("    cors: { origins: [] }\n")));
  ASSERT_EQ(e.size(), 1u);
}

TEST_F(ConfigTest, TokenCacheSize) {
  std::string sized = vp();
  sized.replace(sized.find("key: signer.pem"), 15, "key: signer.pem\n        token_cache: 0");
  auto off = parse(with(sized));
  ASSERT_TRUE(off.ok()) << off.error().detail;
  EXPECT_EQ(off->virtual_proxies[0].auth.jwt.token_cache, 0u);
  std::string bad = vp();
  bad.replace(bad.find("key: signer.pem"), 15, "key: signer.pem\n        token_cache: -5");
  auto e = errors(with(bad));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].auth.jwt.token_cache: expected a whole number "
                     ">= 0"))
      << e[0];
}

TEST_F(ConfigTest, Durations) {
  auto e = errors(with(vp("    session: { inactivity_timeout: 10x }\n")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:13:36: virtual_proxies[0].session.inactivity_timeout: expected a "
            "duration such as 90s, 30m, 8h, 2d or whole seconds");
  EXPECT_EQ(parse_duration_seconds("90s"), 90);
  EXPECT_EQ(parse_duration_seconds("30m"), 1800);
  EXPECT_EQ(parse_duration_seconds("8h"), 28800);
}

TEST_F(ConfigTest, UnknownAuthMethodsAreRefused) {
  auto e = errors(with(vp().replace(vp().find("method: jwt"), 11, "method: saml")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].auth.method: \"saml\" is not jwt, header or "
                     "ticket"))
      << e[0];
}

// A virtual proxy with another method and no jwt section.
static std::string vp_with_auth(const std::string& auth) {
  return "  - name: A\n    prefix: \"a\"\n    listeners: [http]\n"
         "    upstreams: [http://127.0.0.1:9000]\n    auth:\n" +
         auth;
}

TEST_F(ConfigTest, TicketHeaderAndAnonymousSettings) {
  auto ticket =
      parse(with(vp_with_auth("      method: ticket\n      ticket_lifetime: 2m\n"
                              "      anonymous: allow\n      redirect_uri: /login\n"
                              "      forward_attributes: {groups: X-Groups}\n")));
  ASSERT_TRUE(ticket.ok()) << ticket.error().detail;
  const AuthSettings& a = ticket->virtual_proxies[0].auth;
  EXPECT_EQ(a.method, AuthMethod::kTicket);
  EXPECT_EQ(a.ticket_lifetime_seconds, 120);
  EXPECT_EQ(a.anonymous, AnonymousMode::kAllow);
  EXPECT_EQ(a.redirect_uri, "/login");
  EXPECT_EQ(a.forward_attributes.at("groups"), "X-Groups");

  const std::string trusted =
      "listeners:\n  - name: http\n    address: 127.0.0.1:8080\n    trusted: true\n"
      "virtual_proxies:\n";
  auto header = parse(trusted + vp_with_auth("      method: header\n      header:\n"
                                             "        user_header: X-Sso-User\n"
                                             "        directory: CORP\n"));
  ASSERT_TRUE(header.ok()) << header.error().detail;
  EXPECT_EQ(header->virtual_proxies[0].auth.method, AuthMethod::kHeader);
  EXPECT_EQ(header->virtual_proxies[0].auth.header.user_header, "X-Sso-User");
  EXPECT_EQ(header->virtual_proxies[0].auth.header.directory, "CORP");
}

TEST_F(ConfigTest, TicketHeaderAndAnonymousMistakesNameTheirPlace) {
  auto e =
      errors(with(vp_with_auth("      method: header\n      header:\n"
                               "        user_header: X-Sso-User\n")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].auth.method: header authentication needs a "
                     "listener marked trusted: true among this virtual proxy's listeners "
                     "(headers are accepted only there)"))
      << e[0];

  e =
      errors(with(vp_with_auth("      method: header\n      header:\n"
                               "        directory: CORP\n        directory_header: X-D\n")));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(e[0].ends_with("auth.header.user_header: the header naming the user is required"))
      << e[0];
  EXPECT_TRUE(
      e[1].ends_with("auth.header.directory: set either directory (a constant) or "
                     "directory_header, not both"))
      << e[1];

  e = errors(with(vp_with_auth("      method: header\n")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].ends_with("auth.header: a header section with user_header is required")) << e[0];

  e =
      errors(with(vp_with_auth("      method: header\n      header:\n"
                               "        user_header: X-Sso-User\n"
                               "        directory: \"A;B\"\n")));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[0].ends_with("auth.header.directory: \"A;B\" is not a valid user directory name"))
      << e[0];

  e =
      errors(with(vp_with_auth("      method: header\n      header:\n"
                               "        user_header: \"X Sso\"\n"
                               "        directory_header: \"X:Dir\"\n")));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(e[0].ends_with("auth.header.user_header: \"X Sso\" is not a valid header name"))
      << e[0];
  EXPECT_TRUE(
      e[1].ends_with("auth.header.directory_header: \"X:Dir\" is not a valid header "
                     "name"))
      << e[1];

  e =
      errors(with(vp_with_auth("      method: ticket\n      anonymous: maybe\n"
                               "      redirect_uri: \"//evil.example\"\n"
                               "      ticket_lifetime: 0\n"
                               "      jwt: {key: signer.pem}\n"
                               "      forward_attributes: {groups: \"bad header\"}\n")));
  ASSERT_EQ(e.size(), 5u);
  EXPECT_TRUE(e[0].ends_with("auth.forward_attributes.groups: expected a valid header name"))
      << e[0];
  EXPECT_TRUE(
      e[1].ends_with("auth.redirect_uri: \"//evil.example\" is not an http(s) URL or a "
                     "path starting with /"))
      << e[1];
  EXPECT_TRUE(e[2].ends_with("auth.ticket_lifetime: must be longer than 0")) << e[2];
  EXPECT_TRUE(e[3].ends_with("auth.anonymous: \"maybe\" is not none, allow or always")) << e[3];
  EXPECT_TRUE(e[4].ends_with("auth.jwt: is used only with method: jwt (method is ticket)")) << e[4];
}

TEST_F(ConfigTest, UnreadableAndInvalidKeys) {
  std::ofstream(dir_ / "junk.pem") << "not a key";
  auto e = errors(with(vp().replace(vp().find("signer.pem"), 10, "missing.pem") +
                       vp().replace(vp().find("signer.pem"), 10, "junk.pem")
                           .replace(vp().find("prefix: \"jwt\""), 13, "prefix: \"b\"")
                           .replace(vp().find("name: A"), 7, "name: B")));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[0].starts_with("t.yaml:12:14: virtual_proxies[0].auth.jwt.key: ")) << e[0];
  EXPECT_NE(e[0].find("missing.pem"), std::string::npos) << e[0];
  EXPECT_TRUE(e[1].starts_with("t.yaml:20:14: virtual_proxies[1].auth.jwt.key: ")) << e[1];
}

TEST_F(ConfigTest, ProvidersArePickedByIssuer) {
  fs::copy_file(std::string(JOTGATE_TEST_DATA) + "/keys/rsa_other_public.pem", dir_ / "other.pem");
  std::ofstream(dir_ / "ca.pem") << "a CA file";
  const std::string providers =
      "  - name: A\n    prefix: jwt\n    listeners: [http]\n    upstreams: "
      "[http://127.0.0.1:9000]\n"
      "    auth:\n      method: jwt\n      jwt:\n        leeway: 10s\n        token_cache: 5\n"
      "        jwks_max_stale: 12h\n        user_directory: CORP\n        providers:\n"
      "          - issuer: https://corp.example\n            key: signer.pem\n"
      "            forward_claims: { groups: X-Groups }\n"
      "          - issuer: https://login.partner.example/tenant\n            discovery: true\n"
      "            jwks_ca: ca.pem\n            jwks_timeout: 2s\n            jwks_refresh: 10m\n"
      "            jwks_min_refetch: 1m\n            jwks_max_stale: 2h\n"
      "            user_directory: PARTNER\n            leeway: 5s\n"
      "          - issuer: https://third.example\n"
      "            jwks_uri: https://third.example/keys?v=2\n            audience: gate\n";
  auto config = parse(with(providers));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const JwtSettings& jwt = config->virtual_proxies[0].auth.jwt;
  EXPECT_TRUE(jwt.by_issuer);
  EXPECT_EQ(jwt.token_cache, 5u);
  ASSERT_EQ(jwt.providers.size(), 3u);
  EXPECT_EQ(jwt.providers[0].verifier.issuer, "https://corp.example");
  EXPECT_EQ(jwt.providers[0].key, (dir_ / "signer.pem").string());
  EXPECT_FALSE(jwt.providers[0].keys.empty());
  EXPECT_FALSE(jwt.providers[0].jwks);
  EXPECT_EQ(jwt.providers[0].verifier.leeway_seconds, 10);  // auth.jwt's default
  EXPECT_EQ(jwt.providers[0].forward_claims.at("groups"), "X-Groups");
  EXPECT_EQ(jwt.providers[0].verifier.user_directory, std::optional<std::string>("CORP"));
  ASSERT_TRUE(jwt.providers[1].jwks);
  const JwksSettings& discovered = *jwt.providers[1].jwks;
  EXPECT_TRUE(discovered.discovery);
  EXPECT_EQ(discovered.uri, "");
  EXPECT_EQ(discovered.ca, (dir_ / "ca.pem").string());
  EXPECT_EQ(discovered.timeout, 2s);
  EXPECT_EQ(discovered.refresh_seconds, 600);
  EXPECT_EQ(discovered.min_refetch_seconds, 60);
  EXPECT_EQ(discovered.max_stale_seconds, 7200);
  EXPECT_EQ(jwt.providers[1].verifier.user_directory, std::optional<std::string>("PARTNER"));
  EXPECT_EQ(jwt.providers[1].verifier.leeway_seconds, 5);  // its own
  ASSERT_TRUE(jwt.providers[2].jwks);
  EXPECT_EQ(jwt.providers[2].jwks->uri, "https://third.example/keys?v=2");
  EXPECT_FALSE(jwt.providers[2].jwks->discovery);
  // The documented defaults.
  EXPECT_EQ(jwt.providers[2].jwks->timeout, 5s);
  EXPECT_EQ(jwt.providers[2].jwks->refresh_seconds, 300);
  EXPECT_EQ(jwt.providers[2].jwks->min_refetch_seconds, 30);
  EXPECT_EQ(jwt.providers[2].jwks->max_stale_seconds, 12 * 3600);  // auth.jwt's default
  EXPECT_EQ(jwt.providers[2].verifier.audiences, std::vector<std::string>{"gate"});
  EXPECT_EQ(jwt.all_forward_claims().size(), 1u);

  // The single form: one provider, no choice by issuer.
  auto single = parse(with(vp("        jwks_uri: https://idp.example/keys\n")
                               .replace(vp().find("        key: signer.pem\n"), 24, "")));
  ASSERT_TRUE(single.ok()) << single.error().detail;
  EXPECT_FALSE(single->virtual_proxies[0].auth.jwt.by_issuer);
  ASSERT_EQ(single->virtual_proxies[0].auth.jwt.providers.size(), 1u);
  EXPECT_EQ(single->virtual_proxies[0].auth.jwt.providers[0].jwks->uri, "https://idp.example/keys");
}

TEST_F(ConfigTest, ProviderAndKeySourceErrors) {
  const std::string head =
      "  - name: A\n    prefix: jwt\n    listeners: [http]\n    upstreams: "
      "[http://127.0.0.1:9000]\n"
      "    auth:\n      method: jwt\n      jwt:\n";
  auto e = errors(with(
      head +
      "        issuer: https://x.example\n"
      "        providers:\n"
      "          - issuer: https://a.example\n            key: signer.pem\n"
      "          - issuer: https://a.example\n            jwks_uri: http://a.example/keys\n"
      "          - key: signer.pem\n"
      "          - issuer: https://b.example\n            key: signer.pem\n"
      "            jwks_uri: https://b.example/keys\n"
      "          - issuer: not-a-url\n            discovery: true\n            jwks_timeout: 0s\n"
      "            jwks_max_stale: 0\n            jwks_ca: missing-ca.pem\n"
      "          - issuer: https://c.example\n            key: signer.pem\n"
      "            jwks_refresh: 1m\n"
      "          - issuer: https://d.example\n"));
  ASSERT_EQ(e.size(), 11u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:12:17: virtual_proxies[0].auth.jwt.issuer: set it in each entry of "
            "providers, not beside them");
  EXPECT_EQ(e[1],
            "t.yaml:17:23: virtual_proxies[0].auth.jwt.providers[1].jwks_uri: "
            "\"http://a.example/keys\" is not an https:// URL (keys are fetched over TLS only)");
  EXPECT_EQ(e[2],
            "t.yaml:16:21: virtual_proxies[0].auth.jwt.providers[1].issuer: the same issuer as "
            "virtual_proxies[0].auth.jwt.providers[0]: each provider needs its own");
  EXPECT_EQ(e[3],
            "t.yaml:18:13: virtual_proxies[0].auth.jwt.providers[2].issuer: each provider needs "
            "its issuer (the token's iss picks the provider)");
  EXPECT_EQ(e[4],
            "t.yaml:19:13: virtual_proxies[0].auth.jwt.providers[3]: set one of key, jwks_uri or "
            "discovery: true, not several");
  EXPECT_EQ(e[5],
            "t.yaml:23:24: virtual_proxies[0].auth.jwt.providers[4].discovery: discovery needs "
            "issuer, an https:// URL (its /.well-known/openid-configuration names the jwks_uri)");
  EXPECT_TRUE(
      e[6].starts_with("t.yaml:26:22: virtual_proxies[0].auth.jwt.providers[4].jwks_ca: "
                       "cannot read "))
      << e[6];
  EXPECT_EQ(e[7],
            "t.yaml:24:27: virtual_proxies[0].auth.jwt.providers[4].jwks_timeout: must be more "
            "than 0");
  EXPECT_EQ(e[8],
            "t.yaml:25:29: virtual_proxies[0].auth.jwt.providers[4].jwks_max_stale: must be at "
            "least 1s");
  EXPECT_EQ(e[9],
            "t.yaml:29:27: virtual_proxies[0].auth.jwt.providers[5].jwks_refresh: applies only "
            "with jwks_uri or discovery: true");
  EXPECT_TRUE(
      e[10].starts_with("t.yaml:30:13: virtual_proxies[0].auth.jwt.providers[6].key: a "
                        "verification key file"))
      << e[10];

  auto empty = errors(with(head + "        providers: []\n"));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0],
            "t.yaml:12:20: virtual_proxies[0].auth.jwt.providers: expected a list of at least one "
            "provider");
}

TEST_F(ConfigTest, DirectoryClaimAndConstantAreExclusive) {
  auto e = errors(with(vp("        user_directory_claim: dir\n        user_directory: ACME\n")));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].auth.jwt.user_directory: set either "
                     "user_directory (a constant) or user_directory_claim, not both"));
}

TEST_F(ConfigTest, AllocationsForm) {
  auto e = errors(with(vp(),
                       "access: { mode: all, allocations: [\"ACME\\\\alice\", alice, "
                       "\"A\\\\b\\\\c\"] }\n"));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(e[0].ends_with("access.mode: \"all\" is not allocated or open")) << e[0];
  EXPECT_TRUE(e[1].ends_with("access.allocations[1]: \"alice\" is not DIRECTORY\\id")) << e[1];
  EXPECT_TRUE(e[2].ends_with("access.allocations[2]: \"A\\b\\c\" is not DIRECTORY\\id")) << e[2];
}

TEST_F(ConfigTest, HeaderNames) {
  auto e =
      errors(with(vp("        forward_claims: { groups: \"X Groups\" }\n"
                     "    identity_header: \"X:User\"\n")));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(
      e[0].ends_with("virtual_proxies[0].auth.jwt.forward_claims.groups: expected a valid "
                     "header name"))
      << e[0];
  EXPECT_TRUE(
      e[1].ends_with("virtual_proxies[0].identity_header: \"X:User\" is not a valid "
                     "header name"))
      << e[1];
}

TEST_F(ConfigTest, MissingSectionsAndBadYaml) {
  auto e = errors("log_format: xml\n");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "t.yaml:1:1: listeners: at least one listener is required");
  EXPECT_EQ(e[1], "t.yaml:1:1: virtual_proxies: at least one virtual proxy is required");
  EXPECT_EQ(e[2], "t.yaml:1:13: log_format: \"xml\" is not text or json");
  auto broken = errors("listeners: [\n  - name: x\n");
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_TRUE(broken[0].starts_with("t.yaml:")) << broken[0];
  EXPECT_NE(broken[0].find("not valid YAML"), std::string::npos);
}

TEST_F(ConfigTest, LoadFileResolvesAgainstItsFolder) {
  std::ofstream(dir_ / "gate.yaml") << with(vp());
  auto config = load_config_file((dir_ / "gate.yaml").string());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->virtual_proxies[0].auth.jwt.providers[0].key, (dir_ / "signer.pem").string());
  auto missing = load_config_file((dir_ / "none.yaml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, Reason::kFileUnreadable);
}

// --- admin section
TEST_F(ConfigTest, NoAdminSectionMeansNoAdminListener) {
  auto config = parse(with(vp()));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_FALSE(config->admin);
}

TEST_F(ConfigTest, DatabaseDefaultsToSqliteInDataDir) {
  auto config = parse(with(vp()));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->database.type, DatabaseType::kSqlite);
  EXPECT_EQ(config->database.url, "");
  EXPECT_EQ(config->database.password, "");
  auto sqlite = parse(with(vp(), "database: { type: sqlite }\n"));
  ASSERT_TRUE(sqlite.ok()) << sqlite.error().detail;
  EXPECT_EQ(sqlite->database.type, DatabaseType::kSqlite);
}

TEST_F(ConfigTest, DatabasePostgresqlWithPasswordFile) {
  std::ofstream(dir_ / "db.password") << "s3cret\n";
  auto config = parse(with(vp(),
                           "database:\n  type: postgresql\n"
                           "  url: postgresql://jotgate@db.example:5432/jotgate\n"
                           "  password_file: db.password\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->database.type, DatabaseType::kPostgresql);
  EXPECT_EQ(config->database.url, "postgresql://jotgate@db.example:5432/jotgate");
  EXPECT_EQ(config->database.password_file, (dir_ / "db.password").string());
  EXPECT_EQ(config->database.password, "s3cret");  // the trailing newline stripped
  auto short_scheme =
      parse(with(vp(), "database: { type: postgresql, url: \"postgres://j@h/d\" }\n"));
  ASSERT_TRUE(short_scheme.ok()) << short_scheme.error().detail;
  EXPECT_EQ(short_scheme->database.password_file, "");
}

TEST_F(ConfigTest, DatabaseErrorsNameTheirPlace) {
  auto e = errors(with(vp(), "database:\n  host: x\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:14:3: database.host: unknown key (expected one of: type, url, password_file)");
  e = errors(with(vp(), "database:\n  type: mysql\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:14:9: database.type: \"mysql\" is not a database type (expected: sqlite, "
            "postgresql)");
  e = errors(with(vp(), "database:\n  type: postgresql\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:14:3: database.url: required for type postgresql "
            "(postgresql://user@host:port/dbname)");
  e = errors(with(vp(), "database:\n  type: postgresql\n  url: mysql://u:hunter2@h/d\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:15:8: database.url: \"mysql://u@h/d\" is not a postgresql:// or postgres:// "
            "connection URI");  // the password left out
  e = errors(with(vp(), "database:\n  url: postgresql://u@h/d\n  password_file: p\n"));
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:14:8: database.url: only for type postgresql (sqlite keeps jotgate.db in "
            "data_dir)");
  EXPECT_EQ(e[1],
            "t.yaml:15:18: database.password_file: only for type postgresql (sqlite keeps "
            "jotgate.db in data_dir)");
}

TEST_F(ConfigTest, DatabasePasswordFileMissingOrEmpty) {
  auto e = errors(with(vp(),
                       "database:\n  type: postgresql\n  url: postgresql://u@h/d\n"
                       "  password_file: missing.password\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "t.yaml:16:18: database.password_file: " + (dir_ / "missing.password").string() +
                      " does not exist or is not a readable file");
  std::ofstream(dir_ / "empty.password") << "\n";
  e = errors(with(vp(),
                  "database:\n  type: postgresql\n  url: postgresql://u@h/d\n"
                  "  password_file: empty.password\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "t.yaml:16:18: database.password_file: " + (dir_ / "empty.password").string() +
                      " is empty");
}

TEST_F(ConfigTest, AdminDefaultsAndResolvedFiles) {
  std::ofstream(dir_ / "admin.token") << "secret\n";
  std::ofstream(dir_ / "admin-ca.pem") << "x";
  auto config = parse(with(vp(),
                           "admin:\n  tls: {certificate: a.pem, key: a_key.pem}\n"
                           "  token_file: admin.token\n  client_ca: admin-ca.pem\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  ASSERT_TRUE(config->admin);
  EXPECT_EQ(config->admin->host, "127.0.0.1");
  EXPECT_EQ(config->admin->port, 4243);
  EXPECT_EQ(config->admin->tls.certificate, (dir_ / "a.pem").string());
  EXPECT_EQ(config->admin->tls.key, (dir_ / "a_key.pem").string());
  EXPECT_TRUE(config->admin->tls.generate_if_missing);
  EXPECT_EQ(config->admin->token_file, (dir_ / "admin.token").string());
  EXPECT_EQ(config->admin->client_ca, (dir_ / "admin-ca.pem").string());
}

TEST_F(ConfigTest, AdminAddressAndOneCredentialIsEnough) {
  std::ofstream(dir_ / "admin-ca.pem") << "x";
  auto config = parse(with(vp(),
                           "admin:\n  address: \"[::1]:9443\"\n"
                           "  tls: {certificate: a.pem, key: a_key.pem}\n"
                           "  client_ca: admin-ca.pem\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->admin->host, "::1");
  EXPECT_EQ(config->admin->port, 9443);
  EXPECT_EQ(config->admin->token_file, "");
}

TEST_F(ConfigTest, AdminNeedsTlsAndACredential) {
  auto e = errors(with(vp(), "admin:\n  address: 127.0.0.1:4243\n"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0],
            "t.yaml:14:3: admin.tls: a tls section {certificate, key} is required: the "
            "admin API is served over TLS only");
  EXPECT_EQ(e[1],
            "t.yaml:14:3: admin: client_ca or token_file is required (or both): the admin "
            "API admits only clients with a certificate signed by client_ca or the token in "
            "token_file");
}

// A file name the system refuses (longer than NAME_MAX) is a missing file, never an exception
// (found by config_fuzzer).
TEST_F(ConfigTest, AFileNameTooLongIsMissingNotAnException) {
  const std::string name(5000, 'x');
  auto e = errors(with(vp(), "admin:\n  address: 127.0.0.1:4243\n  tls: {certificate: " + name +
                                 ", key: " + name + "}\n  token_file: " + name + "\n"));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_TRUE(e[0].starts_with("t.yaml:16:15: admin.token_file: ")) << e[0];
  EXPECT_TRUE(e[0].ends_with(" does not exist or is not a file")) << e[0];
}

TEST_F(ConfigTest, AdminErrorsNameTheirPlace) {
  auto e = errors(with(vp(),
                       "admin:\n  address: localhost\n  tls: {certificate: a.pem}\n"
                       "  client_ca: missing-ca.pem\n  token_file: missing.token\n"
                       "  port: 1\n"));
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0],
            "t.yaml:18:3: admin.port: unknown key (expected one of: address, tls, "
            "client_ca, token_file)");
  EXPECT_EQ(e[1],
            "t.yaml:14:12: admin.address: \"localhost\" is not host:port (IPv6: "
            "[::1]:4243)");
  EXPECT_EQ(e[2], "t.yaml:15:8: admin.tls.key: a private key file is required");
  EXPECT_EQ(e[3], "t.yaml:16:14: admin.client_ca: " + (dir_ / "missing-ca.pem").string() +
                      " does not exist or is not a file");
  EXPECT_EQ(e[4], "t.yaml:17:15: admin.token_file: " + (dir_ / "missing.token").string() +
                      " does not exist or is not a file");
}

TEST_F(ConfigTest, AdminTlsOneFileMissingIsAnError) {
  std::ofstream(dir_ / "admin.token") << "secret\n";
  std::ofstream(dir_ / "a.pem") << "x";
  auto e = errors(with(vp(),
                       "admin:\n  tls: {certificate: a.pem, key: a_key.pem}\n"
                       "  token_file: admin.token\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:14:8: admin.tls: " + (dir_ / "a_key.pem").string() +
                      " is missing while " + (dir_ / "a.pem").string() +
                      " exists (when both are missing a self-signed pair is generated)");
}

// --- ${NAME} references from the environment (config/environment.h does the text)

// Sets environment variables for one test and restores the previous values.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::initializer_list<std::pair<const char*, const char*>> values) {
    for (auto [name, value] : values) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      if (value) {
        ::setenv(name, value, 1);
      } else {
        ::unsetenv(name);
      }
    }
  }
  ~ScopedEnvironment() {
    for (auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A YAML alias inside the node it names is a cycle: reported as the wrong shape, never walked
// forever (found by config_fuzzer).
TEST_F(ConfigTest, AnAliasInsideItselfIsAnErrorNotALoop) {
  auto e = errors("listeners: &a\n  x: [*a, *a]\nvirtual_proxies: &b [*b]\n");
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "t.yaml:1:12: listeners: expected a list");
  EXPECT_EQ(e[1], "t.yaml:3:18: virtual_proxies[0]: expected a mapping");
}

TEST_F(ConfigTest, EnvironmentReferencesAreReplacedInEveryScalarValue) {
  ScopedEnvironment env({{"JG_TEST_PORT", "8090"},
                         {"JG_TEST_KEY", "signer.pem"},
                         {"JG_TEST_UNSET", nullptr},
                         {"JG_TEST_ALG", "ES256"}});
  auto config = parse(
      "data_dir: ${JG_TEST_UNSET:-/var/lib/jotgate}\n"
      "listeners:\n  - name: http\n    address: \"127.0.0.1:${JG_TEST_PORT}\"\n"
      "virtual_proxies:\n  - name: A-${JG_TEST_UNSET:-}-$${x}\n    prefix: jwt\n"
      "    listeners: [http]\n    upstreams: [http://127.0.0.1:9000]\n"
      "    auth: { jwt: { key: '${JG_TEST_KEY}', algorithms: [RS256, &alg '${JG_TEST_ALG}'] } }\n"
      "    response_headers: { X-A: *alg }\n");
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->data_dir, "/var/lib/jotgate");
  EXPECT_EQ(config->listeners.at(0).port, 8090);
  const VirtualProxy& v = config->virtual_proxies.at(0);
  EXPECT_EQ(v.name, "A--${x}");
  EXPECT_EQ(v.auth.jwt.providers[0].key, (dir_ / "signer.pem").string());
  EXPECT_EQ(v.auth.jwt.providers[0].verifier.algorithms.size(), 2u);
  EXPECT_EQ(v.response_headers.at(0).second, "ES256");  // an alias shares the replaced value
}

TEST_F(ConfigTest, UnsetOrMalformedReferencesAreErrorsAtTheirPlace) {
  ScopedEnvironment env({{"JG_TEST_HOST", "127.0.0.1"}, {"JG_TEST_UNSET", nullptr}});
  auto e = errors(
      "listeners:\n  - name: http\n    address: ${JG_TEST_HOST}:${JG_TEST_UNSET}\n"
      "virtual_proxies:\n  - name: \"A ${1X}\"\n    prefix: jwt\n"
      "    listeners: [http]\n    upstreams: [http://127.0.0.1:9000]\n"
      "    auth: { jwt: { key: \"\\x41${JG_TEST_UNSET\" } }\n");
  ASSERT_EQ(e.size(), 3u);
  // Only the reference is reported, not what its unreplaced text would cause (a bad address,
  // an unreadable key file).
  EXPECT_EQ(e[0],
            "t.yaml:3:30: listeners[0].address: the environment variable JG_TEST_UNSET is not "
            "set (${JG_TEST_UNSET:-default} gives a default)");
  EXPECT_EQ(e[1],
            "t.yaml:5:14: virtual_proxies[0].name: \"${1X}\" is not ${NAME} or "
            "${NAME:-default} (NAME: letters, digits and _, not starting with a digit)");
  // An escape makes the written text differ from the value: the place is the value's start.
  EXPECT_EQ(e[2],
            "t.yaml:9:25: virtual_proxies[0].auth.jwt.key: \"${\" is not closed by \"}\" (a "
            "literal \"${\" is written \"$${\")");
}

TEST_F(ConfigTest, KeysAreNotExpanded) {
  ScopedEnvironment env({{"JG_TEST_KEYNAME", "data_dir"}});
  auto e = errors(with(vp(), "${JG_TEST_KEYNAME}: /tmp\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].starts_with("t.yaml:13:1: ${JG_TEST_KEYNAME}: unknown key")) << e[0];
}

// --- ops section
TEST_F(ConfigTest, NoOpsSectionMeansNoOpsListener) {
  auto config = parse(with(vp()));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_FALSE(config->ops);
}

TEST_F(ConfigTest, OpsDefaultsToLoopbackPort9100) {
  auto config = parse(with(vp(), "ops: {}\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  ASSERT_TRUE(config->ops);
  EXPECT_EQ(config->ops->host, "127.0.0.1");
  EXPECT_EQ(config->ops->port, 9100);
  config = parse(with(vp(), "ops:\n  address: \"[::1]:0\"\n"));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->ops->host, "::1");
  EXPECT_EQ(config->ops->port, 0);
}

TEST_F(ConfigTest, OpsErrorsNameTheirPlace) {
  auto e = errors(with(vp(), "ops:\n  address: localhost\n  tls: {}\n"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "t.yaml:15:3: ops.tls: unknown key (expected one of: address)");
  EXPECT_EQ(e[1], "t.yaml:14:12: ops.address: \"localhost\" is not host:port (IPv6: [::1]:9100)");
  e = errors(with(vp(), "ops: [127.0.0.1:9100]\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:13:6: ops: expected a mapping");
}

// The PEM text of a test key, for key_pem.
std::string pem_text(const std::string& name) {
  std::ifstream in(std::string(JOTGATE_TEST_DATA) + "/keys/" + name);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `text` as a YAML block scalar indented by `indent` spaces.
std::string block(const std::string& text, int indent) {
  std::string out = "|\n";
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    out += std::string(indent, ' ') + text.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::string pem_vp(const std::string& key_lines) {
  return "  - name: A\n    prefix: jwt\n    listeners: [http]\n"
         "    auth:\n      method: jwt\n      jwt:\n" +
         key_lines;
}

TEST_F(ConfigTest, KeyPemTakesACertificateOrPublicKeyAsText) {
  for (const char* name : {"rsa_cert.pem", "rsa_public.pem", "ec_p256_public.pem"}) {
    const std::string pem = pem_text(name);
    const std::string algorithms = name[0] == 'e' ? "        algorithms: [ES256]\n" : "";
    auto config = parse(with(pem_vp(algorithms + "        key_pem: " + block(pem, 10))));
    ASSERT_TRUE(config.ok()) << config.error().detail;
    const JwtProvider& provider = config->virtual_proxies.at(0).auth.jwt.providers.at(0);
    EXPECT_EQ(provider.key_pem, pem);
    EXPECT_EQ(provider.key, "");
    EXPECT_EQ(provider.keys.keys().size(), 1u) << name;
  }
}

TEST_F(ConfigTest, KeyPemInJson) {
  // JSON is YAML: the escapes of a JSON string give the PEM's lines.
  std::string escaped;
  for (char c : pem_text("rsa_cert.pem"))
    escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  auto config = parse(
      R"({"listeners": [{"name": "http", "address": "127.0.0.1:8080"}],
          "virtual_proxies": [{"name": "A", "prefix": "jwt", "listeners": ["http"],
             "auth": {"method": "jwt", "jwt": {"key_pem": ")" +
      escaped + R"("}}}]})");
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->virtual_proxies.at(0).auth.jwt.providers.at(0).key_pem,
            pem_text("rsa_cert.pem"));
}

TEST_F(ConfigTest, KeyPemPerProvider) {
  auto config =
      parse(with(pem_vp("        providers:\n"
                        "          - issuer: https://a.example\n"
                        "            key_pem: " +
                        block(pem_text("rsa_public.pem"), 14) +
                        "          - issuer: https://b.example\n"
                        "            key: signer.pem\n")));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const auto& providers = config->virtual_proxies.at(0).auth.jwt.providers;
  ASSERT_EQ(providers.size(), 2u);
  EXPECT_FALSE(providers[0].keys.empty());
  EXPECT_EQ(providers[0].key_pem, pem_text("rsa_public.pem"));
  EXPECT_FALSE(providers[1].keys.empty());
}

TEST_F(ConfigTest, KeyPemIsExclusiveWithTheOtherKeySources) {
  const std::string pem = block(pem_text("rsa_cert.pem"), 10);
  auto e = errors(with(pem_vp("        key: signer.pem\n        key_pem: " + pem)));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:12:18: virtual_proxies[0].auth.jwt.key_pem: set one of key, key_pem, "
            "jwks_uri or discovery: true, not several");
  e = errors(with(pem_vp("        jwks_uri: https://a.example/keys\n        key_pem: " + pem)));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:12:18: virtual_proxies[0].auth.jwt.key_pem: set one of key, key_pem, "
            "jwks_uri or discovery: true, not several");
  e = errors(with(pem_vp("        key_pem: " + pem + "        jwks_refresh: 1m\n")));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:31:23: virtual_proxies[0].auth.jwt.jwks_refresh: applies only with jwks_uri "
            "or discovery: true");
  e = errors(with(pem_vp("        key_pem: " + pem +
                         "        providers:\n          - issuer: https://a.example\n"
                         "            key: signer.pem\n")));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:11:18: virtual_proxies[0].auth.jwt.key_pem: set it in each entry of "
            "providers, not beside them");
}

TEST_F(ConfigTest, BadKeyPemIsAnErrorAtItsPlaceWithoutTheText) {
  auto e = errors(with(pem_vp("        key_pem: not a key at all\n")));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:11:18: virtual_proxies[0].auth.jwt.key_pem: expected PEM text: a certificate "
            "(-----BEGIN CERTIFICATE-----) or a public key (-----BEGIN PUBLIC KEY-----)");
  const std::string broken = "-----BEGIN CERTIFICATE-----\nQUJDRA==\n-----END CERTIFICATE-----\n";
  e = errors(with(pem_vp("        key_pem: " + block(broken, 10))));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:11:18: virtual_proxies[0].auth.jwt.key_pem: the key cannot be read: malformed "
            "certificate");
  // A private key is not what verifies: refused, and never quoted.
  const std::string secret = pem_text("rsa_private.pem");
  e = errors(with(pem_vp("        key_pem: " + block(secret, 10))));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0],
            "t.yaml:11:18: virtual_proxies[0].auth.jwt.key_pem: the key type or size is not "
            "supported: PEM \"PRIVATE KEY\"; expected a CERTIFICATE or a PUBLIC KEY");
  EXPECT_EQ(e[0].find(secret.substr(40, 40)), std::string::npos) << e[0];
  // The algorithms must suit the key.
  e = errors(with(pem_vp("        algorithms: [ES256]\n        key_pem: " +
                         block(pem_text("rsa_cert.pem"), 10))));
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_TRUE(e[0].starts_with("t.yaml:12:18: virtual_proxies[0].auth.jwt.key_pem: ")) << e[0];
  EXPECT_TRUE(e[0].ends_with(" (for the algorithms configured)")) << e[0];
}

}  // namespace
}  // namespace jotgate::config
