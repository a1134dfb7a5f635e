// `jotgate revoke`: revokes a token (by its jti) or a user (every token issued up to now), lists
// and lifts revocations, in the configured database (<data_dir>/jotgate.db, or PostgreSQL). A
// running gateway (every node) applies a change within about a second: it refuses the tokens
// (401 TOKEN_REVOKED) and ends the sessions they name.
#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
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

constexpr std::string_view kCommand = "revoke";

struct RevokeOptions {
  std::string config_file;
  std::string data_dir;
  std::string jti;
  std::string user;
  std::string until;
  bool list = false;
  std::optional<std::int64_t> lift;
};

std::string until_text(const access::Revocation& r) {
  return r.until ? format_timestamp(*r.until) : "lifted";
}

void run_list(access::AccessStore& store) {
  auto revocations = store.revocations();
  if (!revocations) fail(kExitFailed, kCommand, revocations.error().message());
  std::size_t width = 7;
  for (const auto& r : *revocations) {
    width = std::max(width, r.kind == access::Revocation::Kind::kUser ? r.user.qualified().size()
                                                                      : r.jti.size());
  }
  std::cout << std::left << std::setw(6) << "ID"
            << "  " << std::setw(4) << "KIND"
            << "  " << std::setw(static_cast<int>(width)) << "SUBJECT"
            << "  " << std::setw(20) << "REVOKED AT"
            << "  "
            << "UNTIL\n";
  for (const auto& r : *revocations) {
    const bool by_user = r.kind == access::Revocation::Kind::kUser;
    std::cout << std::left << std::setw(6) << r.id << "  " << std::setw(4)
              << (by_user ? "user" : "jti") << "  " << std::setw(static_cast<int>(width))
              << (by_user ? r.user.qualified() : r.jti) << "  " << std::setw(20)
              << format_timestamp(r.revoked_at) << "  " << until_text(r) << "\n";
  }
  std::cout << revocations->size() << " revocation" << (revocations->size() == 1 ? "" : "s")
            << "\n";
}

void run_revoke(const RevokeOptions& options) {
  const int actions = (options.jti.empty() ? 0 : 1) + (options.user.empty() ? 0 : 1) +
                      (options.list ? 1 : 0) + (options.lift ? 1 : 0);
  if (actions != 1) fail(kExitUsage, kCommand, "give exactly one of --jti, --user, --list, --lift");
  if (!options.until.empty() && (options.list || options.lift)) {
    fail(kExitUsage, kCommand, "--until goes with --jti or --user");
  }
  SystemClock clock;
  const UnixSeconds now = clock.now_seconds();
  access::Revocation revocation;
  revocation.revoked_at = now;
  if (!options.until.empty()) {
    revocation.until = parse_timestamp(options.until);
    if (!revocation.until) {
      fail(kExitUsage, kCommand,
           "--until '" + options.until +
               "' is not a time (RFC 3339 such as 2030-01-31T12:00:00Z, or Unix seconds)");
    }
    if (*revocation.until <= now) {
      fail(kExitUsage, kCommand, "--until '" + options.until + "' is not in the future");
    }
  }
  if (!options.user.empty()) {
    auto user = config::parse_qualified_user(options.user);
    if (!user) {
      fail(kExitUsage, kCommand,
           "\"" + options.user +
               "\" is not DIRECTORY\\id (e.g. ACME\\alice; in a shell: 'ACME\\alice')");
    }
    revocation.kind = access::Revocation::Kind::kUser;
    revocation.user = *user;
  }
  revocation.jti = options.jti;

  auto store = open_access_store(kCommand, options.config_file, options.data_dir);
  if (options.list) return run_list(*store);
  if (options.lift) {
    auto lifted = store->lift_revocation(*options.lift);
    if (!lifted) fail(kExitFailed, kCommand, lifted.error().message());
    if (!*lifted)
      fail(kExitFailed, kCommand, "no revocation has id " + std::to_string(*options.lift));
    std::cout << "Lifted revocation " << *options.lift << "\n";
    return;
  }
  auto added = store->add_revocation(revocation);
  if (!added) fail(kExitFailed, kCommand, added.error().message());
  if (added->kind == access::Revocation::Kind::kUser) {
    std::cout << "Revoked user " << added->user.qualified() << " (revocation " << added->id
              << "): tokens issued up to " << format_timestamp(added->revoked_at)
              << " are refused until " << until_text(*added) << "\n";
  } else {
    std::cout << "Revoked token " << added->jti << " (revocation " << added->id
              << "): refused until " << until_text(*added) << "\n";
  }
}

}  // namespace

void add_revoke_command(CLI::App& root) {
  auto options = std::make_shared<RevokeOptions>();
  CLI::App* revoke = root.add_subcommand(
      "revoke",
      "Revoke a token or a user, list or lift revocations (a running gateway applies "
      "them within a second)");
  add_data_dir_options(revoke, options->config_file, options->data_dir);
  revoke->add_option("--jti", options->jti, "Revoke the token with this jti claim");
  revoke->add_option("--user", options->user,
                     "Revoke every token of DIRECTORY\\id issued up to now, and end its sessions");
  revoke->add_option("--until", options->until,
                     "Drop the entry at this time, when the tokens it names have expired (RFC "
                     "3339 or Unix seconds; default: kept until lifted)");
  revoke->add_flag("--list", options->list, "List the revocations");
  revoke->add_option("--lift", options->lift, "Lift the revocation with this id");
  revoke->footer(
      "Exit status: 0 done; 1 the work failed (or --lift names no revocation); 2 usage error.\n"
      "Examples:\n"
      "  jotgate revoke --config jotgate.yaml --jti 5f1c2a --until 2030-01-31T12:00:00Z\n"
      "  jotgate revoke --config jotgate.yaml --user 'ACME\\alice'\n"
      "  jotgate revoke --config jotgate.yaml --list\n"
      "  jotgate revoke --config jotgate.yaml --lift 3\n");
  revoke->callback([options] { run_revoke(*options); });
}

}  // namespace jotgate::cli
