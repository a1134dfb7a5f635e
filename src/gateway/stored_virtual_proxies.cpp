#include "gateway/stored_virtual_proxies.h"

#include <algorithm>

namespace jotgate::gateway {

std::string stored_source(const std::string& prefix) {
  return "virtual proxy \"" + prefix + "\" (database)";
}

const config::VirtualProxy* find_virtual_proxy(const config::GatewayConfig& config,
                                               const std::string& prefix) {
  auto it = std::find_if(config.virtual_proxies.begin(), config.virtual_proxies.end(),
                         [&](const config::VirtualProxy& vp) { return vp.prefix == prefix; });
  return it == config.virtual_proxies.end() ? nullptr : &*it;
}

std::vector<std::string> add_stored_virtual_proxies(
    config::GatewayConfig& config, const std::vector<access::StoredVirtualProxy>& stored,
    config::KeyFiles key_files) {
  std::vector<std::string> warnings;
  for (const access::StoredVirtualProxy& one : stored) {
    const std::string source = stored_source(one.prefix);
    const auto left_out = [&](const std::string& why) {
      warnings.push_back(source + " is left out: " + why);
    };
    if (const config::VirtualProxy* taken = find_virtual_proxy(config, one.prefix)) {
      left_out("its prefix is used by the configuration file's \"" + taken->name + "\"");
      continue;
    }
    auto parsed = config::parse_virtual_proxy_document(one.document, config, source, key_files);
    if (!parsed.virtual_proxy) {
      const config::FieldProblem& first = parsed.problems.front();
      left_out((first.field.empty() ? "" : first.field + ": ") + first.message);
      continue;
    }
    config::VirtualProxy& vp = *parsed.virtual_proxy;
    const bool name_taken =
        std::any_of(config.virtual_proxies.begin(), config.virtual_proxies.end(),
                    [&](const config::VirtualProxy& other) { return other.name == vp.name; });
    if (vp.prefix != one.prefix || name_taken) {
      left_out(name_taken ? "its name \"" + vp.name + "\" is used by the configuration file"
                          : "its document names another prefix");
      continue;
    }
    vp.from_database = true;
    config.virtual_proxies.push_back(std::move(vp));
  }
  return warnings;
}

}  // namespace jotgate::gateway
