// jotgate: a JWT authentication gateway. This file only wires the subcommands together.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "base/version.h"

#include "cli/command_error.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "jotgate: a JWT authentication gateway.\n"
      "Examples:\n"
      "  jotgate serve                         run the gateway on the embedded demo config\n"
      "  jotgate serve --config jotgate.yaml   run the gateway on your config\n"
      "  jotgate certs generate --out certs    make TLS and token-signing certificates\n"
      "  jotgate token sign --key certs/signer_key.pem --claim userId=alice "
      "--claim userDirectory=ACME\n",
      "jotgate"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "jotgate " + std::string(jotgate::version_string()));
  jotgate::cli::add_serve_command(app);
  jotgate::cli::add_config_command(app);
  jotgate::cli::add_token_command(app);
  jotgate::cli::add_certs_command(app);
  jotgate::cli::add_access_command(app);
  jotgate::cli::add_reload_command(app);
  jotgate::cli::add_revoke_command(app);
  try {
    app.parse(argc, argv);
  } catch (const jotgate::cli::CommandError& e) {
    std::cerr << e.text << "\n";
    return e.exit_code;
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (CLI11 returns its own codes; we normalise them).
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return 0;
}
