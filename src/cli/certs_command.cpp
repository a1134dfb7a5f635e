// `jotgate certs generate`: the development PKI (pki::generate_bundle) from the command line.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/command_error.h"
#include "cli/commands.h"
#include "pki/bundle.h"

namespace jotgate::cli {

namespace {

void run_generate(const pki::BundleOptions& options) {
  auto files = pki::generate_bundle(options);
  if (!files) {
    // kExitFailed: nothing written (a file exists, or writing failed).
    const Error& error = files.error();
    fail(error.reason == Reason::kBadRequest ? kExitUsage : kExitFailed, "certs generate",
         error.describe());
  }
  auto line = [](const std::string& path, const std::string& what) {
    std::cout << "  " << path << "\n      " << what << "\n";
  };
  std::cout << "Wrote:\n";
  line(files->ca_cert, "CA certificate (trust it in TLS clients)");
  line(files->ca_key, "CA private key (mode 0600)");
  line(files->server_cert,
       "TLS server certificate for " + options.common_name + ", localhost, 127.0.0.1, ::1");
  line(files->server_key, "TLS server private key (mode 0600)");
  line(files->signer_cert, "token-verifying certificate (the gateway verifies tokens with it)");
  line(files->signer_key, "token-signing private key, RSA 2048 (mode 0600)");
  std::cout << "Next: sign a test token and verify it:\n"
            << "  jotgate token sign --key " << files->signer_key
            << " --claim userId=alice --claim userDirectory=ACME > token.jwt\n"
            << "  jotgate token verify --key " << files->signer_cert << " - < token.jwt\n";
}

}  // namespace

void add_certs_command(CLI::App& root) {
  CLI::App* certs = root.add_subcommand("certs", "Development certificates and keys");
  certs->require_subcommand(1);
  certs->footer(
      "Examples:\n"
      "  jotgate certs generate --out certs\n"
      "  jotgate certs generate --out certs --cn gate.example.test --days 30 --force\n");

  auto options = std::make_shared<pki::BundleOptions>();
  CLI::App* generate = certs->add_subcommand(
      "generate",
      "Write a self-signed CA, a TLS server certificate and key signed by it, and a token-signing "
      "key pair with its certificate, all PEM, into a folder");
  generate->add_option("--out", options->out_dir, "Folder to write into (created if missing)")
      ->required();
  generate
      ->add_option("--cn", options->common_name,
                   "Server host name or IP address: certificate CN and first SAN")
      ->capture_default_str();
  generate->add_option("--days", options->days, "Validity of every certificate, in days")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  generate->add_flag("--force", options->force, "Replace existing files (default: refuse)");
  generate->footer(
      "Files written into --out:\n"
      "  ca.pem, ca_key.pem          self-signed development CA\n"
      "  server.pem, server_key.pem  TLS server certificate (SAN: --cn, localhost, 127.0.0.1, "
      "::1;\n"
      "                              serverAuth) signed by the CA\n"
      "  signer.pem, signer_key.pem  token-signing RSA 2048 key and its certificate, signed by "
      "the\n"
      "                              CA; the gateway verifies tokens with signer.pem\n"
      "Private keys are created with mode 0600. No file is replaced unless --force: when any of\n"
      "the six exists, nothing is written.\n"
      "Exit status: 0 written; 1 nothing written (a file exists, or writing failed); 2 usage.\n"
      "Examples:\n"
      "  jotgate certs generate --out certs\n"
      "  jotgate certs generate --out /etc/jotgate/certs --cn gate.example.test --days 90\n"
      "  jotgate certs generate --out certs --force      replace an existing bundle\n");
  generate->callback([options] { run_generate(*options); });
}

}  // namespace jotgate::cli
