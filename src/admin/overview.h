// Overview: what the console's Overview page shows (GET /api/v1/overview), gathered by the
// process that runs the gateway: its listeners, its virtual proxies with their upstreams'
// health, live sessions and key status, the last hour's auth decisions by reason, and the last
// reload. Plain data; AdminApi writes it as JSON.
//   Overview now = backend.overview();
//   for (const auto& vp : now.virtual_proxies) show(vp.prefix, vp.sessions);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_backend.h"
#include "base/clock.h"

namespace jotgate::admin {

struct Overview {
  struct Listener {
    std::string name;
    std::string address;  // "https://127.0.0.1:8443" with the bound port
    bool tls = false;
    std::size_t connections = 0;  // open now
  };
  struct Upstream {
    std::string url;
    bool healthy = true;  // not marked down by the passive health check
  };
  // Where one identity provider's keys come from, and how they stand.
  struct Keys {
    std::string source;     // "file" (jwt.key), "pem" (jwt.key_pem) or "jwks" (jwks_uri, discovery)
    std::string location;   // the file's path, the jwks_uri (or issuer with discovery); "" for pem
    std::size_t count = 0;  // usable now
    std::optional<UnixSeconds> loaded_at;        // read (file, pem: the load) or fetched (jwks)
    std::optional<UnixSeconds> next_refresh_at;  // jwks: the next fetch; files: at a reload
    std::string problem;                         // why none are usable, or the last fetch failed
  };
  struct VirtualProxy {
    std::string name;
    std::string prefix;
    std::string source = "file";  // "file" or "database"
    std::string method;           // jwt, header, ticket
    std::vector<std::string> listeners;
    std::size_t sessions = 0;
    std::vector<Upstream> upstreams;
    std::vector<Keys> keys;
  };
  struct Decisions {
    std::int64_t bucket_seconds = 60;
    UnixSeconds start = 0;  // of the oldest bucket
    // "accepted:<session|jwt|header|ticket|anonymous>" or a refusal's reason code -> counts per
    // bucket, oldest first.
    std::map<std::string, std::vector<std::uint64_t>> reasons;
  };
  struct LastReload {
    std::optional<UnixSeconds> at;  // none: no reload since the start
    ReloadReport report;
  };

  std::string version;
  UnixSeconds started_at = 0;
  std::vector<Listener> listeners;
  std::vector<VirtualProxy> virtual_proxies;
  Decisions decisions;
  LastReload last_reload;
};

}  // namespace jotgate::admin
