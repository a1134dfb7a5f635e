#include "cli/data_dir_options.h"

#include <CLI/CLI.hpp>

#include "cli/command_error.h"
#include "config/gateway_config.h"

namespace jotgate::cli {

void add_data_dir_options(CLI::App* command, std::string& config_file, std::string& data_dir) {
  auto* config =
      command
          ->add_option(
              "--config", config_file,
              "Gateway configuration (its database: PostgreSQL, or jotgate.db in its data_dir)")
          ->check(CLI::ExistingFile);
  command
      ->add_option("--data-dir", data_dir, "Data folder holding jotgate.db (default: jotgate-data)")
      ->excludes(config);
}

std::unique_ptr<access::AccessStore> open_access_store(std::string_view command,
                                                       const std::string& config_file,
                                                       const std::string& data_dir) {
  std::string folder = data_dir.empty() ? "jotgate-data" : data_dir;
  config::DatabaseSettings database;  // --data-dir: SQLite there
  if (!config_file.empty()) {
    auto config = config::load_config_file(config_file);
    if (!config) fail_invalid_config(command, config_file, config.error());
    folder = config->data_dir;
    database = config->database;
  }
  auto store = access::AccessStore::open(database, folder);
  if (!store) fail(kExitFailed, command, store.error().message());
  return std::move(*store);
}

}  // namespace jotgate::cli
