// Runtime: everything the proxy builds from one configuration (routes, gates, TLS contexts,
// header policies, upstream pools and health, the access log), in one immutable snapshot held
// by shared ownership. A connection takes the snapshot when a request starts and keeps it until
// the request ends, so a reload (swapping in a new snapshot) never pulls anything from under a
// request in flight. The snapshot owns copies of the configuration it was built from: nothing
// in it points into a config::GatewayConfig.
//   auto runtime = Runtime::create(config, gates, worker_executors);
//   auto match = (*runtime)->listeners[i].routes.match(path);
//   const VirtualProxyRuntime& vp = (*runtime)->virtual_proxies[match->virtual_proxy_index];
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "auth/gate.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "metrics/registry.h"
#include "proxy/access_log.h"
#include "proxy/cors.h"
#include "proxy/header_rewrite.h"
#include "proxy/request_path.h"
#include "proxy/upstream_pool.h"

namespace jotgate::proxy {

namespace asio = boost::asio;

struct VirtualProxyRuntime {
  config::VirtualProxy config;  // a copy: the snapshot owns what it was built from
  std::size_t index = 0;
  auth::Gate* gate = nullptr;  // owned by Runtime::gates
  HeaderPolicy policy;
  std::vector<std::string> host_allow_list;  // lower case
  std::vector<UpstreamRuntime> upstreams;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{60000};
  CorsPolicy cors;
  // Its counters, kept by name across runtimes (metrics::Registry); null: not counted.
  std::shared_ptr<metrics::VirtualProxyMetrics> metrics;
};

struct ListenerRuntime {
  config::Listener config;
  std::size_t index = 0;
  // Names the listener across reloads (set by the Server): a connection finds its listener in a
  // newer snapshot by it, and finds none once a reload removed the listener.
  std::uint64_t id = 0;
  RouteTable routes;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
};

// The limits of one request, from config.limits.
struct RequestLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_request_line = 8 * 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds body_timeout{30000};  // see BodyDeadline
  std::uint64_t body_min_rate = 1024;
};

// The upstream side of one worker thread: its keep-alive pool and round-robin positions. Used
// only on that worker's thread, so the request path takes no locks.
struct WorkerUpstreams {
  WorkerUpstreams(asio::any_io_executor executor, asio::ssl::context& tls, UpstreamHealth& health,
                  std::size_t virtual_proxy_count)
      : pool(std::move(executor), tls, health), round_robin(virtual_proxy_count, 0) {}
  UpstreamPool pool;
  std::vector<std::size_t> round_robin;  // next upstream, by virtual proxy index
};

class Runtime {
 public:
  // Builds the snapshot: TLS contexts loaded (or generated), the access log opened, one
  // WorkerUpstreams per executor (one per worker thread, same order). Errors name the
  // configuration's place. With `registry`, virtual proxies and upstreams count into it.
  static Result<std::shared_ptr<Runtime>> create(const config::GatewayConfig& config,
                                                 std::shared_ptr<auth::GateSet> gates,
                                                 const std::vector<asio::any_io_executor>& workers,
                                                 metrics::Registry* registry = nullptr);

  // The upstream pool and round robin of worker `worker` (its thread only).
  WorkerUpstreams& upstreams_of(std::size_t worker) const { return *worker_upstreams_[worker]; }
  // Closes the idle upstream connections of every worker (at shutdown, on the workers' threads
  // having stopped, before their io_contexts go).
  void close_idle_upstreams() const;
  // After a reload replaced this snapshot on worker `worker`: its idle upstream connections are
  // closed and none is kept any more (on that worker's thread).
  void retire_upstreams_of(std::size_t worker) const { worker_upstreams_[worker]->pool.retire(); }
  // The listener with this id; null when this snapshot has none (removed by a reload).
  const ListenerRuntime* find_listener(std::uint64_t id) const {
    for (const auto& listener : listeners) {
      if (listener.id == id) return &listener;
    }
    return nullptr;
  }
  // Passive upstream health (any thread).
  const UpstreamHealth& health() const { return *health_; }

  std::shared_ptr<auth::GateSet> gates;
  std::vector<VirtualProxyRuntime> virtual_proxies;
  std::vector<ListenerRuntime> listeners;
  RequestLimits limits;
  std::shared_ptr<AccessLog> access_log;  // null: `access_log: off`
  // Requests that match no virtual proxy count as vp="" (null: not counted).
  std::shared_ptr<metrics::VirtualProxyMetrics> unrouted_metrics;

 private:
  std::shared_ptr<asio::ssl::context> upstream_tls_;
  std::unique_ptr<UpstreamHealth> health_;
  std::vector<std::unique_ptr<WorkerUpstreams>> worker_upstreams_;
};

}  // namespace jotgate::proxy
