// PLACEHOLDER: replaced by the real 'serve' command.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace jotgate::cli {

void add_serve_command(CLI::App& root) { root.add_subcommand("serve", "not built yet"); }

}  // namespace jotgate::cli
