// The virtual proxy document of the admin API: a `virtual_proxies` item of the YAML file as JSON,
// with the same keys and every value in force (defaults filled in, durations as "30m"), so that
// reading it back with parse_virtual_proxy_document gives the same virtual proxy. A key file is
// shown by its path, never its contents; key_pem (public material) as given.
//   nlohmann::json doc = virtual_proxy_document(config.virtual_proxies[0]);
//   doc["session"]["inactivity_timeout"] = "5m";
//   auto parsed = parse_virtual_proxy_document(doc.dump(), config, "<document>");
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "config/gateway_config.h"

namespace jotgate::config {

nlohmann::json virtual_proxy_document(const VirtualProxy& vp);

}  // namespace jotgate::config
