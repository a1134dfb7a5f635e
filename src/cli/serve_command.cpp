// `jotgate serve`: the gateway on a config file, or without --config on the embedded demo: a
// data folder with generated certificates, one HTTPS listener, a virtual proxy "jwt" in front of
// a built-in demo upstream, the demo user allocated, and a ready-to-paste curl command.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "auth/audit.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/random.h"
#include "base/service_notify.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/serve_output.h"
#include "config/gateway_config.h"
#include "gateway/gateway.h"
#include "jose/jws.h"
#include "jose/key.h"
#include "pki/bundle.h"
#include "proxy/demo_upstream.h"

namespace jotgate::cli {

namespace {

namespace fs = std::filesystem;

struct ServeOptions {
  std::string config_file;
  unsigned threads = 0;
  std::string data_dir = "jotgate-data";
  std::uint16_t port = 8443;
  std::uint16_t ops_port = 9100;
  std::optional<std::uint16_t> admin_port;  // the demo's admin listener (API and console)
};

[[noreturn]] void fail(std::string_view message) { cli::fail(kExitFailed, "serve", message); }

// A YAML double-quoted scalar; `${` written `$${`, so that it is not taken from the environment.
std::string yaml_quote(const std::string& text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '$' && text.substr(i + 1, 1) == "{") out.push_back('$');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Certificates of the embedded default: generated on first start, reused afterwards.
pki::BundleFiles demo_certificates(const fs::path& certs) {
  pki::BundleFiles files{(certs / "ca.pem").string(),     (certs / "ca_key.pem").string(),
                         (certs / "server.pem").string(), (certs / "server_key.pem").string(),
                         (certs / "signer.pem").string(), (certs / "signer_key.pem").string()};
  const std::string needed[] = {files.ca_cert, files.server_cert, files.server_key,
                                files.signer_cert, files.signer_key};
  std::size_t present = 0;
  for (const auto& path : needed) present += fs::exists(path) ? 1 : 0;
  if (present == std::size(needed)) return files;
  if (present != 0 || fs::exists(files.ca_key)) {
    fail("the folder " + certs.string() +
         " holds only part of the generated certificates; remove it (a new set is generated) "
         "or run: jotgate certs generate --out " +
         certs.string() + " --force");
  }
  auto generated = pki::generate_bundle({.out_dir = certs.string(), .common_name = "localhost"});
  if (!generated) fail(generated.error().describe());
  std::cout << "Generated development certificates in " << certs.string() << "\n";
  return *generated;
}

// The demo's admin token: generated on first start (readable by its owner only), reused after.
std::string demo_admin_token_file(const fs::path& data_dir) {
  const fs::path path = data_dir / "admin-token";
  if (!fs::exists(path)) {
    if (auto written = replace_file(path.string(), random_hex(32) + "\n"); !written) {
      fail(written.error().describe());
    }
  }
  return path.string();
}

std::string embedded_config(const fs::path& data_dir, const pki::BundleFiles& files,
                            const ServeOptions& options, std::uint16_t demo_port) {
  const std::uint16_t port = options.port;
  const std::uint16_t ops_port = options.ops_port;
  std::ostringstream yaml;
  yaml << "data_dir: " << yaml_quote(data_dir.string()) << "\n"
       << "listeners:\n"
       << "  - name: https\n"
       << "    address: " << yaml_quote("127.0.0.1:" + std::to_string(port)) << "\n"
       << "    tls: { certificate: " << yaml_quote(files.server_cert)
       << ", key: " << yaml_quote(files.server_key) << " }\n"
       << "virtual_proxies:\n"
       << "  - name: jwt\n"
       << "    prefix: jwt\n"
       << "    listeners: [https]\n"
       << "    upstreams: [" << yaml_quote("http://127.0.0.1:" + std::to_string(demo_port)) << "]\n"
       << "    auth:\n"
       << "      method: jwt\n"
       << "      jwt:\n"
       << "        key: " << yaml_quote(files.signer_cert) << "\n"
       << "access:\n"
       << "  mode: allocated\n"
       << "  allocations: [\"ACME\\\\demo\"]\n"
       << "ops:\n"
       << "  address: " << yaml_quote("127.0.0.1:" + std::to_string(ops_port)) << "\n";
  if (options.admin_port) {
    yaml << "admin:\n"
         << "  address: " << yaml_quote("127.0.0.1:" + std::to_string(*options.admin_port)) << "\n"
         << "  tls: { certificate: " << yaml_quote(files.server_cert)
         << ", key: " << yaml_quote(files.server_key) << " }\n"
         << "  token_file: " << yaml_quote(demo_admin_token_file(data_dir)) << "\n";
  }
  return yaml.str();
}

// The one token jotgate prints, on purpose: for the demo user of the embedded default.
std::string demo_token(const std::string& signer_key, UnixSeconds now) {
  auto key = jose::load_signing_key(signer_key);
  if (!key) fail(key.error().describe());
  nlohmann::json claims = {
      {"userId", "demo"}, {"userDirectory", "ACME"}, {"iat", now}, {"exp", now + 3600}};
  auto token = jose::sign_compact(R"({"alg":"RS256","typ":"JWT"})", claims.dump(), *key);
  if (!token) fail(token.error().describe());
  return *token;
}

void run_serve(const ServeOptions& options) {
  // Diagnostics to standard error; standard output carries the access log.
  spdlog::set_default_logger(spdlog::stderr_color_mt("jotgate"));

  static SystemClock clock;
  const bool embedded = options.config_file.empty();
  std::unique_ptr<proxy::DemoUpstream> demo;
  std::optional<pki::BundleFiles> demo_files;
  config::GatewayConfig config;
  if (!embedded) {
    auto loaded = config::load_config_file(options.config_file);
    if (!loaded) fail_invalid_config("serve", options.config_file, loaded.error());
    config = std::move(*loaded);
  } else {
    fs::path data_dir = fs::absolute(options.data_dir).lexically_normal();
    demo_files = demo_certificates(data_dir / "certs");
    auto started = proxy::DemoUpstream::start();
    if (!started) fail(started.error().message());
    demo = std::move(*started);
    std::string yaml = embedded_config(data_dir, *demo_files, options, demo->port());
    auto parsed = config::parse_config(yaml, "<embedded default>", fs::current_path().string());
    if (!parsed) fail("embedded default configuration: " + parsed.error().detail);
    config = std::move(*parsed);
  }

  const ServeOutput output(config.log_format);
  // Audit lines leave the request threads; every one is written before we return.
  auth::AuditWriter audit_writer;
  // A reload reads the same source again: the file (a key file that cannot be used then leaves
  // its virtual proxy without keys instead of refusing everything), or the embedded default.
  gateway::GatewayOptions gateway_options;
  gateway_options.threads = options.threads;
  if (!embedded) {
    const std::string path = fs::absolute(options.config_file).lexically_normal().string();
    gateway_options.config_path = path;
    gateway_options.load = [path] {
      return config::load_config_file(path, config::KeyFiles::kMayFail);
    };
  } else {
    gateway_options.load = [config] { return Result<config::GatewayConfig>(config); };
  }
  auto gateway = gateway::Gateway::start(config, std::move(gateway_options), clock);
  if (!gateway) {
    fail(gateway.error().detail.empty() ? gateway.error().describe() : gateway.error().detail);
  }

  // One line per listener, the bound address first (port 0 in the config: the one the system
  // chose), then what it is.
  std::vector<std::string> addresses;
  std::vector<std::string> listener_names;
  for (const auto& listener : (*gateway)->listeners()) {
    addresses.push_back(listener.address);
    listener_names.push_back(listener.name);
  }
  output.listening(addresses, listener_names, (*gateway)->admin_address(),
                   (*gateway)->ops_address());
  if (embedded) {
    std::string token = demo_token(demo_files->signer_key, clock.now_seconds());
    fs::path ca = fs::path(options.data_dir) / "certs" / "ca.pem";
    std::cout << "The virtual proxy \"jwt\" forwards to a built-in demo upstream on "
              << "http://127.0.0.1:" << demo->port() << "; the user ACME\\demo is allocated.\n"
              << "Try it (the token is valid for 1 hour):\n"
              << "  curl --cacert " << ca.string() << " -H \"Authorization: Bearer " << token
              << "\" " << addresses.front() << "/jwt/\n";
    if (auto admin = (*gateway)->admin_address()) {
      // The path of the token, never the token: it stays in its file.
      const fs::path token_file = fs::path(options.data_dir) / "admin-token";
      std::cout << "The console: " << *admin << "/console/\n"
                << "  sign in with the admin token in " << token_file.string()
                << " (cat it; the browser trusts the certificate once " << ca.string()
                << " is imported as a certificate authority)\n";
    }
  }
  output.ready();
  notify_ready();       // systemd (Type=notify): the listeners are bound, connections are queued
  (*gateway)->run();    // returns after a signal, the graceful shutdown and the sessions' save
  gateway->reset();     // the pid file goes
  audit_writer.stop();  // every line, also those of the drain, before the last line
  output.stopped();
}

}  // namespace

void add_serve_command(CLI::App& root) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = root.add_subcommand("serve", "Run the gateway");
  auto* config = serve
                     ->add_option("--config", options->config_file,
                                  "Configuration file (YAML); without it: the embedded demo")
                     ->check(CLI::ExistingFile);
  serve->add_option("--threads", options->threads, "I/O threads (default: one per core)")
      ->check(CLI::Range(1u, 1024u));
  serve
      ->add_option("--data-dir", options->data_dir,
                   "Data folder of the embedded demo (certificates are generated there)")
      ->capture_default_str()
      ->excludes(config);
  serve->add_option("--port", options->port, "HTTPS port of the embedded demo")
      ->capture_default_str()
      ->excludes(config);
  serve
      ->add_option("--ops-port", options->ops_port,
                   "Ops listener port of the embedded demo (/healthz /readyz /metrics; 0: any "
                   "free port)")
      ->capture_default_str()
      ->excludes(config);
  serve
      ->add_option("--admin-port", options->admin_port,
                   "Admin listener of the embedded demo: the admin API and the console on "
                   "https://127.0.0.1:--admin-port/console/ (0: any free port); the token is "
                   "generated in <data-dir>/admin-token. Without it: no admin listener")
      ->excludes(config);
  serve->footer(
      "Without --config, jotgate serves an embedded demo: certificates and a token-signing key\n"
      "in --data-dir (generated on first start), HTTPS on 127.0.0.1:--port, the virtual proxy\n"
      "\"jwt\" in front of a built-in upstream that shows the identity it received, and the\n"
      "user ACME\\demo allocated; /healthz, /readyz and /metrics on http://127.0.0.1:--ops-port.\n"
      "It prints a curl command with a fresh token for that user. With --admin-port, the admin\n"
      "API and the console listen there too (scripts/run uses 4243); the token to sign in to\n"
      "the console is in <data-dir>/admin-token.\n"
      "SIGTERM or Ctrl-C: stop accepting, finish requests in flight, save the sessions to\n"
      "<data_dir>/sessions.db (read back at the next start), exit 0.\n"
      "SIGHUP (or jotgate reload --config FILE): read the configuration, keys and certificates\n"
      "again and apply them without a restart; an invalid file changes nothing.\n"
      "Examples:\n"
      "  jotgate serve\n"
      "  jotgate serve --config jotgate.yaml --threads 4\n"
      "  jotgate serve --data-dir /tmp/demo --port 9443 --ops-port 0\n"
      "  jotgate serve --admin-port 4243\n");
  serve->callback([options] { run_serve(*options); });
}

}  // namespace jotgate::cli
