// `jotgate config check FILE`: validates a configuration without starting the gateway, printing
// every problem with its file, line, column and YAML path (the same lines `serve` prints).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "cli/command_error.h"
#include "cli/commands.h"
#include "config/gateway_config.h"

namespace jotgate::cli {

namespace {

void run_check(const std::string& file) {
  auto config = config::load_config_file(file);
  if (!config) {
    std::string text;
    for (const auto& line : config::error_lines(config.error())) {
      text.append(text.empty() ? "" : "\n").append(line);
    }
    fail_with_text(kExitFailed, std::move(text));
  }
  std::cout << file << ": OK (" << config->listeners.size() << " listener"
            << (config->listeners.size() == 1 ? "" : "s") << ", " << config->virtual_proxies.size()
            << " virtual prox" << (config->virtual_proxies.size() == 1 ? "y" : "ies") << ")\n";
}

}  // namespace

void add_config_command(CLI::App& root) {
  CLI::App* config = root.add_subcommand("config", "Configuration files");
  config->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  CLI::App* check = config->add_subcommand(
      "check", "Validate a configuration file (keys are loaded, nothing is started)");
  check->add_option("FILE", *file, "The YAML configuration")->required();
  check->footer(
      "Exit 0 and \"FILE: OK (...)\" when valid; exit 1 and one line per problem on standard\n"
      "error, each \"FILE:LINE:COLUMN: yaml.path: problem\", when not.\n"
      "Example:\n"
      "  jotgate config check jotgate.yaml\n");
  check->callback([file] { run_check(*file); });
}

}  // namespace jotgate::cli
