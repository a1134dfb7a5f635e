// PLACEHOLDER: replaced by the real 'certs' command.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace jotgate::cli {

void add_certs_command(CLI::App& root) { root.add_subcommand("certs", "not built yet"); }

}  // namespace jotgate::cli
