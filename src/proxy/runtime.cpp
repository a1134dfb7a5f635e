#include "proxy/runtime.h"

#include <algorithm>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "base/text.h"
#include "net/listen.h"
#include "pki/server_tls.h"

namespace jotgate::proxy {

namespace {

Result<std::shared_ptr<asio::ssl::context>> server_tls(const config::TlsSettings& tls) {
  auto loaded = pki::server_tls_context(tls.certificate, tls.key, tls.generate_if_missing,
                                        tls.min_version == config::TlsVersion::kTls13);
  if (!loaded) return loaded.error();
  if (loaded->generated)
    spdlog::info("generated a self-signed TLS certificate: {}", tls.certificate);
  return std::make_shared<asio::ssl::context>(loaded->context.release());
}

std::shared_ptr<asio::ssl::context> upstream_tls() {
  auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_default_verify_paths();
  tls->set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  return tls;
}

RequestLimits request_limits(const config::Limits& limits) {
  RequestLimits out;
  out.max_header_bytes = limits.max_header_bytes;
  out.max_header_count = limits.max_header_count;
  out.max_request_line = limits.max_request_line;
  out.header_timeout = limits.header_timeout;
  out.handshake_timeout = limits.handshake_timeout;
  out.idle_timeout = limits.idle_timeout;
  out.body_timeout = limits.body_timeout;
  out.body_min_rate = limits.body_min_rate;
  return out;
}

}  // namespace

Result<std::shared_ptr<Runtime>> Runtime::create(const config::GatewayConfig& config,
                                                 std::shared_ptr<auth::GateSet> gates,
                                                 const std::vector<asio::any_io_executor>& workers,
                                                 metrics::Registry* registry) {
  auto runtime = std::make_shared<Runtime>();
  runtime->gates = std::move(gates);
  runtime->limits = request_limits(config.limits);

  // Upstream ids are consecutive within a virtual proxy (the exchange finds an upstream by id).
  std::size_t upstream_id = 0;
  for (std::size_t i = 0; i < config.virtual_proxies.size(); ++i) {
    const config::VirtualProxy& vp = config.virtual_proxies[i];
    auth::Gate& gate = runtime->gates->gate(i);
    std::vector<std::string> allow;
    for (const auto& host : vp.host_allow_list) allow.push_back(to_lower(host));
    std::vector<UpstreamRuntime> upstreams;
    for (const auto& upstream : vp.upstreams) {
      upstreams.push_back(UpstreamRuntime{
          upstream, upstream_id++, net::host_port(upstream.host, upstream.port), {}});
    }
    std::shared_ptr<metrics::VirtualProxyMetrics> counters;
    if (registry != nullptr) {
      counters = registry->virtual_proxy(vp.name, workers.size());
      for (auto& upstream : upstreams) upstream.metrics = counters->upstream(upstream.config.url);
    }
    runtime->virtual_proxies.push_back(VirtualProxyRuntime{
        vp, i, &gate,
        HeaderPolicy({gate.reserved_request_headers(), vp.response_headers, vp.session.cookie_name,
                      vp.allow_underscores_in_headers}),
        std::move(allow), std::move(upstreams), vp.connect_timeout, vp.read_timeout,
        CorsPolicy(vp.cors_allowed_origins), std::move(counters)});
  }
  if (registry != nullptr) runtime->unrouted_metrics = registry->virtual_proxy("", workers.size());
  runtime->health_ = std::make_unique<UpstreamHealth>(upstream_id);
  runtime->upstream_tls_ = upstream_tls();
  for (const auto& executor : workers) {
    runtime->worker_upstreams_.push_back(std::make_unique<WorkerUpstreams>(
        executor, *runtime->upstream_tls_, *runtime->health_, config.virtual_proxies.size()));
  }

  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    const config::Listener& listener = config.listeners[l];
    ListenerRuntime built;
    built.config = listener;
    built.index = l;
    for (std::size_t i = 0; i < config.virtual_proxies.size(); ++i) {
      const auto& names = config.virtual_proxies[i].listeners;
      if (names.empty() || std::find(names.begin(), names.end(), listener.name) != names.end()) {
        built.routes.add(config.virtual_proxies[i].prefix, i);
      }
    }
    if (listener.tls) {
      auto tls = server_tls(*listener.tls);
      if (!tls) return tls.error();
      built.tls = std::move(*tls);
    }
    runtime->listeners.push_back(std::move(built));
  }

  if (config.access_log_enabled) {
    auto log = AccessLog::open(config);
    if (!log) return log.error();
    runtime->access_log = std::move(*log);
  }
  return runtime;
}

void Runtime::close_idle_upstreams() const {
  for (const auto& upstreams : worker_upstreams_) upstreams->pool.close_idle();
}

}  // namespace jotgate::proxy
