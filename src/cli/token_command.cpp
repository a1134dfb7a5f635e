// PLACEHOLDER: replaced by the real 'token' command.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace jotgate::cli {

void add_token_command(CLI::App& root) { root.add_subcommand("token", "not built yet"); }

}  // namespace jotgate::cli
