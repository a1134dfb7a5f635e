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

#include "admin/admin_server.h"
#include "auth/audit.h"
#include "auth/gate.h"
#include "base/clock.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/serve_output.h"
#include "config/gateway_config.h"
#include "jose/jws.h"
#include "jose/key.h"
#include "pki/bundle.h"
#include "proxy/demo_upstream.h"
#include "proxy/server.h"

namespace jotgate::cli {

namespace {

namespace fs = std::filesystem;

struct ServeOptions {
  std::string config_file;
  unsigned threads = 0;
  std::string data_dir = "jotgate-data";
  std::uint16_t port = 8443;
};

[[noreturn]] void fail(std::string_view message) { cli::fail(kExitFailed, "serve", message); }

// A YAML double-quoted scalar.
std::string yaml_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
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

std::string embedded_config(const fs::path& data_dir, const pki::BundleFiles& files,
                            std::uint16_t port, std::uint16_t demo_port) {
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
       << "  allocations: [\"ACME\\\\demo\"]\n";
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
    std::string yaml = embedded_config(data_dir, *demo_files, options.port, demo->port());
    auto parsed = config::parse_config(yaml, "<embedded default>", fs::current_path().string());
    if (!parsed) fail("embedded default configuration: " + parsed.error().detail);
    config = std::move(*parsed);
  }

  const ServeOutput output(config.log_format);
  // Audit lines leave the request threads; every one is written before we return.
  auth::AuditWriter audit_writer;
  auto created_gates = auth::GateSet::create(config, clock);
  if (!created_gates) fail(created_gates.error().describe());
  std::shared_ptr<auth::GateSet> gates = std::move(*created_gates);
  auto server = proxy::Server::create(config, gates, {.threads = options.threads});
  if (!server)
    fail(server.error().detail.empty() ? server.error().describe() : server.error().detail);
  std::unique_ptr<admin::AdminServer> admin_server;
  if (config.admin) {
    auto created = admin::AdminServer::create(*config.admin, config.limits, gates->admin());
    if (!created)
      fail(created.error().detail.empty() ? created.error().describe() : created.error().detail);
    admin_server = std::move(*created);
  }

  // One line per listener, the bound address first (port 0 in the config: the one the system
  // chose), then what it is.
  const std::vector<std::string> addresses = (*server)->addresses();
  std::vector<std::string> listener_names;
  for (const auto& listener : config.listeners) listener_names.push_back(listener.name);
  output.listening(addresses, listener_names,
                   admin_server ? std::optional(admin_server->address()) : std::nullopt);
  if (embedded) {
    std::string token = demo_token(demo_files->signer_key, clock.now_seconds());
    fs::path ca = fs::path(options.data_dir) / "certs" / "ca.pem";
    std::cout << "The virtual proxy \"jwt\" forwards to a built-in demo upstream on "
              << "http://127.0.0.1:" << demo->port() << "; the user ACME\\demo is allocated.\n"
              << "Try it (the token is valid for 1 hour):\n"
              << "  curl --cacert " << ca.string() << " -H \"Authorization: Bearer " << token
              << "\" " << addresses.front() << "/jwt/\n";
  }
  output.ready();
  if (admin_server) admin_server->start();
  (*server)->run();  // returns after a signal and the graceful shutdown
  if (admin_server) admin_server->stop();
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
  serve->footer(
      "Without --config, jotgate serves an embedded demo: certificates and a token-signing key\n"
      "in --data-dir (generated on first start), HTTPS on 127.0.0.1:--port, the virtual proxy\n"
      "\"jwt\" in front of a built-in upstream that shows the identity it received, and the\n"
      "user ACME\\demo allocated. It prints a curl command with a fresh token for that user.\n"
      "SIGTERM or Ctrl-C: stop accepting, finish requests in flight, exit 0.\n"
      "Examples:\n"
      "  jotgate serve\n"
      "  jotgate serve --config jotgate.yaml --threads 4\n"
      "  jotgate serve --data-dir /tmp/demo --port 9443\n");
  serve->callback([options] { run_serve(*options); });
}

}  // namespace jotgate::cli
