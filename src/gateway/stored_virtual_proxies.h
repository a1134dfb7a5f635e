// The virtual proxies kept in the database added to the configuration file's: after the file's,
// each read by the file's parser (config::parse_virtual_proxy_document). One that cannot be
// served beside the file's (its prefix or name is the file's now, or it no longer reads) is left
// out with a warning; the file's are never broken by a stored one.
//   auto warnings = add_stored_virtual_proxies(config, *store->list_virtual_proxies(),
//                                              config::KeyFiles::kMayFail);
//   for (const auto& warning : warnings) spdlog::warn("{}", warning);
#pragma once

#include <string>
#include <vector>

#include "access/virtual_proxy_store.h"
#include "config/gateway_config.h"

namespace jotgate::gateway {

std::vector<std::string> add_stored_virtual_proxies(
    config::GatewayConfig& config, const std::vector<access::StoredVirtualProxy>& stored,
    config::KeyFiles key_files);

// Where a stored document's problems are said to be: `virtual proxy "sales" (database)`.
std::string stored_source(const std::string& prefix);

// The virtual proxy of `config` with this prefix; null when none.
const config::VirtualProxy* find_virtual_proxy(const config::GatewayConfig& config,
                                               const std::string& prefix);

}  // namespace jotgate::gateway
