#include "metrics/registry.h"

#include <string>

#include "metrics/exposition.h"
#include "metrics/process.h"

namespace jotgate::metrics {

std::string_view outcome_label(UpstreamOutcome outcome) {
  switch (outcome) {
    case UpstreamOutcome::kAnswered: return "answered";
    case UpstreamOutcome::kFailed: return "failed";
    case UpstreamOutcome::kTimeout: return "timeout";
    case UpstreamOutcome::kClientAborted: return "client_aborted";
  }
  return "unknown";
}

UpstreamMetrics::UpstreamMetrics(std::size_t workers)
    : workers_(workers), blocks_(std::make_unique<Block[]>(workers)) {}

std::uint64_t UpstreamMetrics::total(UpstreamOutcome outcome) const {
  std::uint64_t sum = 0;
  for (std::size_t w = 0; w < workers_; ++w) {
    sum += blocks_[w].outcomes[static_cast<std::size_t>(outcome)].get();
  }
  return sum;
}

VirtualProxyMetrics::VirtualProxyMetrics(std::string name, std::size_t workers)
    : name_(std::move(name)), workers_(workers), blocks_(std::make_unique<Block[]>(workers)) {}

void VirtualProxyMetrics::count_request(std::size_t worker, int status, double seconds) {
  Block* b = block(worker);
  if (b == nullptr) return;
  if (status >= kFirstCode && status < kFirstCode + static_cast<int>(kCodes)) {
    b->requests[static_cast<std::size_t>(status - kFirstCode)].add();
  }
  std::size_t bucket = 0;
  while (bucket < kDurationBuckets.size() && seconds > kDurationBuckets[bucket]) ++bucket;
  b->duration_buckets[bucket].add();
  b->duration_sum.store(b->duration_sum.load(std::memory_order_relaxed) + seconds,
                        std::memory_order_relaxed);
}

void VirtualProxyMetrics::count_accepted(std::size_t worker, std::string_view signed_in_by) {
  Block* b = block(worker);
  if (b == nullptr) return;
  for (std::size_t i = 0; i < kAcceptedReasons.size(); ++i) {
    if (kAcceptedReasons[i] == signed_in_by) {
      b->accepted[i].add();
      return;
    }
  }
}

void VirtualProxyMetrics::count_rejected(std::size_t worker, Reason reason) {
  Block* b = block(worker);
  const auto index = static_cast<std::size_t>(reason);
  if (b != nullptr && index < kReasons) b->rejected[index].add();
}

void VirtualProxyMetrics::count_token_cache(std::size_t worker, bool hit) {
  if (Block* b = block(worker)) (hit ? b->token_cache_hits : b->token_cache_misses).add();
}

void VirtualProxyMetrics::count_session_created(std::size_t worker) {
  if (Block* b = block(worker)) b->sessions_created.add();
}

void VirtualProxyMetrics::count_websocket_opened(std::size_t worker) {
  if (Block* b = block(worker)) b->websockets_opened.add();
}

void VirtualProxyMetrics::count_websocket_closed(std::size_t worker) {
  if (Block* b = block(worker)) b->websockets_closed.add();
}

std::shared_ptr<UpstreamMetrics> VirtualProxyMetrics::upstream(const std::string& url) {
  std::lock_guard lock(upstreams_mutex_);
  auto& found = upstreams_[url];
  if (!found) found = std::make_shared<UpstreamMetrics>(workers_);
  return found;
}

VirtualProxyMetrics::Totals VirtualProxyMetrics::totals() const {
  Totals totals;
  std::array<std::uint64_t, kCodes> codes{};
  std::array<std::uint64_t, kReasons> rejected{};
  std::uint64_t opened = 0;
  std::uint64_t closed = 0;
  for (std::size_t w = 0; w < workers_; ++w) {
    const Block& b = blocks_[w];
    for (std::size_t i = 0; i < kCodes; ++i) codes[i] += b.requests[i].get();
    for (std::size_t i = 0; i < totals.buckets.size(); ++i) {
      totals.buckets[i] += b.duration_buckets[i].get();
    }
    totals.duration_sum += b.duration_sum.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kAcceptedReasons.size(); ++i) {
      totals.accepted[i] += b.accepted[i].get();
    }
    for (std::size_t i = 0; i < kReasons; ++i) rejected[i] += b.rejected[i].get();
    totals.token_cache_hits += b.token_cache_hits.get();
    totals.token_cache_misses += b.token_cache_misses.get();
    totals.sessions_created += b.sessions_created.get();
    opened += b.websockets_opened.get();
    closed += b.websockets_closed.get();
  }
  for (std::size_t i = 0; i < kCodes; ++i) {
    if (codes[i] != 0) totals.requests.emplace_back(kFirstCode + static_cast<int>(i), codes[i]);
  }
  for (std::uint64_t n : totals.buckets) totals.duration_count += n;
  for (std::size_t i = 0; i < kReasons; ++i) {
    if (rejected[i] != 0) totals.rejected.emplace_back(static_cast<Reason>(i), rejected[i]);
  }
  // Each worker counts its own opens and closes, and a WebSocket stays on its worker; the
  // reads of one scrape are not simultaneous, so never show less than none.
  totals.websockets_open = opened > closed ? opened - closed : 0;
  std::lock_guard lock(upstreams_mutex_);
  for (const auto& [url, upstream] : upstreams_) {
    std::array<std::uint64_t, kUpstreamOutcomes> outcomes{};
    for (std::size_t i = 0; i < kUpstreamOutcomes; ++i) {
      outcomes[i] = upstream->total(static_cast<UpstreamOutcome>(i));
    }
    totals.upstreams.emplace_back(url, outcomes);
  }
  return totals;
}

Registry::Registry(std::string version, UnixSeconds started_at)
    : version_(std::move(version)), started_at_(started_at), last_reload_success_(started_at) {}

std::map<std::string, std::uint64_t> Registry::decision_totals() const {
  std::map<std::string, std::uint64_t> out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, vp] : virtual_proxies_) {
    const VirtualProxyMetrics::Totals totals = vp->totals();
    for (std::size_t i = 0; i < kAcceptedReasons.size(); ++i) {
      if (totals.accepted[i] != 0) {
        out["accepted:" + std::string(kAcceptedReasons[i])] += totals.accepted[i];
      }
    }
    for (const auto& [reason, count] : totals.rejected)
      out[std::string(reason_code(reason))] += count;
  }
  return out;
}

std::shared_ptr<VirtualProxyMetrics> Registry::virtual_proxy(const std::string& name,
                                                             std::size_t workers) {
  std::lock_guard lock(mutex_);
  auto& found = virtual_proxies_[name];
  if (!found) found = std::make_shared<VirtualProxyMetrics>(name, workers);
  return found;
}

void Registry::count_reload(bool ok, UnixSeconds now) {
  if (ok) {
    reloads_ok_.fetch_add(1);
    last_reload_success_.store(now);
  } else {
    reloads_failed_.fetch_add(1);
  }
}

std::string Registry::exposition(const Scrape& live) const {
  std::vector<std::pair<std::string, VirtualProxyMetrics::Totals>> all;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, vp] : virtual_proxies_) all.emplace_back(name, vp->totals());
  }
  TextWriter out;
  out.family("jotgate_build_info", "gauge", "The running jotgate's version (always 1).");
  out.sample("jotgate_build_info", {{"version", version_}}, std::uint64_t{1});

  out.family("jotgate_requests_total", "counter",
             "Requests answered, by virtual proxy (\"\": none matched) and status code.");
  for (const auto& [name, totals] : all) {
    for (const auto& [code, count] : totals.requests) {
      const std::string code_text = std::to_string(code);
      out.sample("jotgate_requests_total", {{"vp", name}, {"code", code_text}}, count);
    }
  }

  out.family("jotgate_request_duration_seconds", "histogram",
             "Time from the request's first byte to the end of its answer.");
  for (const auto& [name, totals] : all) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < totals.buckets.size(); ++i) {
      cumulative += totals.buckets[i];
      const std::string le =
          i < kDurationBuckets.size() ? format_value(kDurationBuckets[i]) : "+Inf";
      out.sample("jotgate_request_duration_seconds_bucket", {{"vp", name}, {"le", le}}, cumulative);
    }
    out.sample("jotgate_request_duration_seconds_sum", {{"vp", name}}, totals.duration_sum);
    out.sample("jotgate_request_duration_seconds_count", {{"vp", name}}, totals.duration_count);
  }

  out.family("jotgate_auth_decisions_total", "counter",
             "Gate decisions: accepted (reason: what authenticated the request) or rejected "
             "(reason: the reason code answered).");
  for (const auto& [name, totals] : all) {
    for (std::size_t i = 0; i < kAcceptedReasons.size(); ++i) {
      if (totals.accepted[i] == 0) continue;
      out.sample("jotgate_auth_decisions_total",
                 {{"vp", name}, {"result", "accepted"}, {"reason", kAcceptedReasons[i]}},
                 totals.accepted[i]);
    }
    for (const auto& [reason, count] : totals.rejected) {
      out.sample("jotgate_auth_decisions_total",
                 {{"vp", name}, {"result", "rejected"}, {"reason", reason_code(reason)}}, count);
    }
  }

  out.family("jotgate_token_cache_lookups_total", "counter",
             "Bearer tokens looked up in the token cache, found (hit) or not (miss).");
  for (const auto& [name, totals] : all) {
    if (name.empty()) continue;
    out.sample("jotgate_token_cache_lookups_total", {{"vp", name}, {"result", "hit"}},
               totals.token_cache_hits);
    out.sample("jotgate_token_cache_lookups_total", {{"vp", name}, {"result", "miss"}},
               totals.token_cache_misses);
  }

  out.family("jotgate_sessions", "gauge", "Live sign-in sessions.");
  for (const auto& vp : live.virtual_proxies) {
    out.sample("jotgate_sessions", {{"vp", vp.name}}, std::uint64_t{vp.sessions});
  }

  out.family("jotgate_sessions_created_total", "counter", "Sign-in sessions created.");
  for (const auto& [name, totals] : all) {
    if (name.empty()) continue;
    out.sample("jotgate_sessions_created_total", {{"vp", name}}, totals.sessions_created);
  }

  out.family("jotgate_upstream_requests_total", "counter",
             "Requests forwarded, by the upstream they went to and how that went.");
  for (const auto& [name, totals] : all) {
    for (const auto& [url, outcomes] : totals.upstreams) {
      for (std::size_t i = 0; i < kUpstreamOutcomes; ++i) {
        if (outcomes[i] == 0) continue;
        out.sample(
            "jotgate_upstream_requests_total",
            {{"vp", name}, {"upstream", url}, {"outcome", outcome_label(UpstreamOutcome(i))}},
            outcomes[i]);
      }
    }
  }

  out.family("jotgate_upstream_healthy", "gauge",
             "1 while the upstream is used, 0 while it is skipped after a failed connect.");
  for (const auto& vp : live.virtual_proxies) {
    for (const auto& upstream : vp.upstreams) {
      out.sample("jotgate_upstream_healthy", {{"vp", vp.name}, {"upstream", upstream.name}},
                 std::uint64_t{upstream.healthy ? 1u : 0u});
    }
  }

  out.family("jotgate_connections_open", "gauge", "Client connections open, by listener.");
  for (const auto& listener : live.listeners) {
    out.sample("jotgate_connections_open", {{"listener", listener.name}},
               std::uint64_t{listener.connections_open});
  }

  out.family("jotgate_websockets_open", "gauge", "WebSockets open (after their 101).");
  for (const auto& [name, totals] : all) {
    if (name.empty()) continue;
    out.sample("jotgate_websockets_open", {{"vp", name}}, totals.websockets_open);
  }

  out.family("jotgate_config_reloads_total", "counter", "Configuration reloads, by result.");
  out.sample("jotgate_config_reloads_total", {{"result", "ok"}}, reloads_ok_.load());
  out.sample("jotgate_config_reloads_total", {{"result", "error"}}, reloads_failed_.load());

  out.family("jotgate_config_last_reload_success_timestamp_seconds", "gauge",
             "When the configuration in use was loaded (Unix time).");
  out.sample("jotgate_config_last_reload_success_timestamp_seconds", {},
             static_cast<double>(last_reload_success_.load()));

  out.family("jotgate_keys_loaded", "gauge",
             "Token verification keys of the virtual proxy (0 without auth.method jwt).");
  for (const auto& vp : live.virtual_proxies) {
    out.sample("jotgate_keys_loaded", {{"vp", vp.name}}, std::uint64_t{vp.keys_loaded});
  }

  out.family("jotgate_jwks_fetches_total", "counter",
             "Fetches of an identity provider's keys (jwks_uri or discovery), by result.");
  for (const auto& vp : live.virtual_proxies) {
    for (const auto& source : vp.key_sources) {
      out.sample("jotgate_jwks_fetches_total",
                 {{"vp", vp.name}, {"source", source.name}, {"result", "ok"}}, source.fetches_ok);
      out.sample("jotgate_jwks_fetches_total",
                 {{"vp", vp.name}, {"source", source.name}, {"result", "error"}},
                 source.fetches_failed);
    }
  }
  out.family("jotgate_jwks_key_age_seconds", "gauge",
             "Seconds since the identity provider's keys in use were fetched.");
  for (const auto& vp : live.virtual_proxies) {
    for (const auto& source : vp.key_sources) {
      if (source.key_age_seconds) {
        out.sample("jotgate_jwks_key_age_seconds", {{"vp", vp.name}, {"source", source.name}},
                   *source.key_age_seconds);
      }
    }
  }

  const ProcessFigures process = read_process_figures();
  out.family("process_start_time_seconds", "gauge", "Start time of the process (Unix time).");
  out.sample("process_start_time_seconds", {}, static_cast<double>(started_at_));
  out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes", {}, process.resident_bytes);
  out.family("process_cpu_seconds_total", "counter", "User and system CPU time in seconds.");
  out.sample("process_cpu_seconds_total", {}, process.cpu_seconds);
  out.family("process_open_fds", "gauge", "Open file descriptors.");
  out.sample("process_open_fds", {}, process.open_fds);
  return out.take();
}

}  // namespace jotgate::metrics
