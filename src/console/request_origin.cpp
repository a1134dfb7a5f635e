#include "console/request_origin.h"

#include <string>

#include "base/text.h"

namespace jotgate::console {

bool is_unsafe_method(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool is_cross_site_change(const RequestOrigin& request) {
  if (!is_unsafe_method(request.method)) return false;
  if (request.sec_fetch_site) {
    const std::string_view site = trim_ows(*request.sec_fetch_site);
    if (iequals(site, "cross-site") || iequals(site, "same-site")) return true;
  }
  if (request.origin) {
    // Schemes and host names are case-insensitive; the admin listener is https only.
    const std::string own = "https://" + std::string(request.host);
    return request.host.empty() || !iequals(trim_ows(*request.origin), own);
  }
  return false;
}

}  // namespace jotgate::console
