// PLACEHOLDER: replaced by the real 'access' command.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace jotgate::cli {

void add_access_command(CLI::App& root) { root.add_subcommand("access", "not built yet"); }

}  // namespace jotgate::cli
