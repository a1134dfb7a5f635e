// `jotgate access list|grant|revoke`: manages access allocations in the configured database
// (<data_dir>/jotgate.db, or PostgreSQL). A running gateway picks the change up within a few
// seconds (PostgreSQL: every node within a second); a revocation ends the user's sessions there.
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "access/access_store.h"
#include "base/clock.h"
#include "base/timestamp.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/data_dir_options.h"
#include "config/gateway_config.h"

namespace jotgate::cli {

namespace {

struct AccessOptions {
  std::string config_file;
  std::string data_dir;
  std::string user;
};

std::unique_ptr<access::AccessStore> open_store(const std::string& command,
                                                const AccessOptions& options) {
  return open_access_store("access " + command, options.config_file, options.data_dir);
}

UserIdentity parse_user(const std::string& command, const std::string& text) {
  auto user = config::parse_qualified_user(text);
  if (!user) {
    fail(kExitUsage, "access " + command,
         "\"" + text + "\" is not DIRECTORY\\id (e.g. ACME\\alice; in a shell: 'ACME\\alice')");
  }
  return *user;
}

void run_list(const AccessOptions& options) {
  auto store = open_store("list", options);
  auto allocations = store->list();
  if (!allocations) fail(kExitFailed, "access list", allocations.error().message());
  auto seats = store->seats_used();
  std::size_t width = 4;
  for (const auto& a : *allocations) width = std::max(width, a.user.qualified().size());
  std::cout << std::left << std::setw(static_cast<int>(width)) << "USER"
            << "  " << std::setw(20) << "ALLOCATED"
            << "  " << std::setw(20) << "LAST USED"
            << "  "
            << "SOURCE\n";
  for (const auto& a : *allocations) {
    std::cout << std::left << std::setw(static_cast<int>(width)) << a.user.qualified() << "  "
              << std::setw(20) << format_timestamp(a.created_at) << "  " << std::setw(20)
              << (a.last_used_at ? format_timestamp(*a.last_used_at) : "never") << "  "
              << (a.by_seat ? "seat" : "granted") << "\n";
  }
  std::cout << allocations->size() << " allocation" << (allocations->size() == 1 ? "" : "s");
  if (seats)
    std::cout << ", " << *seats << " auto-allocated seat" << (*seats == 1 ? "" : "s") << " used";
  std::cout << "\n";
}

void run_grant(const AccessOptions& options) {
  UserIdentity user = parse_user("grant", options.user);
  auto store = open_store("grant", options);
  SystemClock clock;
  auto granted = store->grant(user, clock.now_seconds());
  if (!granted) fail(kExitFailed, "access grant", granted.error().message());
  std::cout << (*granted ? "Granted " : "Already allocated: ") << user.qualified() << "\n";
}

void run_revoke(const AccessOptions& options) {
  UserIdentity user = parse_user("revoke", options.user);
  auto store = open_store("revoke", options);
  auto revoked = store->revoke(user);
  if (!revoked) fail(kExitFailed, "access revoke", revoked.error().message());
  if (!*revoked) fail(kExitFailed, "access revoke", user.qualified() + " has no allocation");
  std::cout << "Revoked " << user.qualified()
            << " (a running gateway ends the user's sessions within seconds)\n";
}

void add_store_options(CLI::App* command, AccessOptions& options) {
  add_data_dir_options(command, options.config_file, options.data_dir);
}

}  // namespace

void add_access_command(CLI::App& root) {
  CLI::App* access = root.add_subcommand("access", "Access allocations (licensed users)");
  access->require_subcommand(1);
  access->footer(
      "Examples:\n"
      "  jotgate access list --config jotgate.yaml\n"
      "  jotgate access grant --config jotgate.yaml 'ACME\\alice'\n"
      "  jotgate access revoke --data-dir jotgate-data 'ACME\\alice'\n");
  auto options = std::make_shared<AccessOptions>();

  CLI::App* list = access->add_subcommand("list", "List allocations with their last use");
  add_store_options(list, *options);
  list->callback([options] { run_list(*options); });

  CLI::App* grant = access->add_subcommand("grant", "Give a user an access allocation");
  add_store_options(grant, *options);
  grant->add_option("USER", options->user, "DIRECTORY\\id")->required();
  grant->callback([options] { run_grant(*options); });

  CLI::App* revoke = access->add_subcommand(
      "revoke", "Take a user's allocation away (ends their sessions in a running gateway)");
  add_store_options(revoke, *options);
  revoke->add_option("USER", options->user, "DIRECTORY\\id")->required();
  revoke->callback([options] { run_revoke(*options); });
}

}  // namespace jotgate::cli
