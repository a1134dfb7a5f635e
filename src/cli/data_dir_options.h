// The database options `jotgate access` and `jotgate revoke` share: --config FILE (its
// `database`: PostgreSQL, or SQLite in its data_dir) or --data-dir DIR (SQLite, default
// jotgate-data), and opening the access database from them.
//   add_data_dir_options(command, options.config_file, options.data_dir);
//   auto store = open_access_store("access grant", options.config_file, options.data_dir);
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "access/access_store.h"

namespace CLI {
class App;
}

namespace jotgate::cli {

void add_data_dir_options(CLI::App* command, std::string& config_file, std::string& data_dir);

// Fails (through command_error.h) when the configuration is invalid or the database unusable.
std::unique_ptr<access::AccessStore> open_access_store(std::string_view command,
                                                       const std::string& config_file,
                                                       const std::string& data_dir);

}  // namespace jotgate::cli
