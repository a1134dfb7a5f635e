// The request target parser and the route match: a target either is refused or splits into a
// path the prefix table routes and an upstream target built from it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/gateway_config.h"
#include "proxy/request_path.h"

namespace {

using namespace jotgate;

struct Routes {
  proxy::RouteTable with_root;
  proxy::RouteTable prefixes_only;
  config::Upstream upstream{"http://127.0.0.1:9000/base", false, "127.0.0.1", 9000, "/base"};
  Routes() {
    for (auto* table : {&with_root, &prefixes_only}) {
      table->add("jwt", 0);
      table->add("api.v1", 1);
      table->add("a-b_c", 2);
    }
    with_root.add("", 3);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Routes routes;
  const std::string raw(reinterpret_cast<const char*>(data), size);
  auto target = proxy::parse_request_target(raw);
  if (!target) return 0;
  if (target->path.empty() || target->path.front() != '/') std::abort();  // as documented
  for (const auto* table : {&routes.with_root, &routes.prefixes_only}) {
    auto match = table->match(target->path);
    if (!match) continue;
    for (bool strip : {true, false}) {
      const std::string upstream_target =
          proxy::build_upstream_target(routes.upstream, strip, *match, *target);
      if (!upstream_target.starts_with("/base")) std::abort();
    }
  }
  return 0;
}
