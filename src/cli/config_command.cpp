// PLACEHOLDER: replaced by the real 'config' command.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace jotgate::cli {

void add_config_command(CLI::App& root) { root.add_subcommand("config", "not built yet"); }

}  // namespace jotgate::cli
