// The subcommands of `jotgate`, one file each; main.cpp only wires them.
// Each add_* registers its subcommand on the root app; a subcommand reports failure through
// cli/command_error.h (main() prints the message and exits with the status).
#pragma once

namespace CLI {
class App;
}

namespace jotgate::cli {

void add_token_command(CLI::App& root);   // token sign | verify | decode
void add_certs_command(CLI::App& root);   // certs generate
void add_serve_command(CLI::App& root);   // serve
void add_config_command(CLI::App& root);  // config check
void add_access_command(CLI::App& root);  // access list | grant | revoke
void add_reload_command(CLI::App& root);  // reload
void add_revoke_command(CLI::App& root);  // revoke --jti | --user | --list | --lift

}  // namespace jotgate::cli
