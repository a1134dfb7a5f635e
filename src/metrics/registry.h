// Registry: the gateway's metrics, owned by whoever runs the gateway and handed to the server.
// Counting never slows the request path: every counter has one block per worker thread
// (cache-line aligned, written by that thread only with a relaxed load and store, never a
// read-modify-write on a shared atomic); a scrape sums the blocks. Counters of a virtual proxy
// are found by its name, so a runtime rebuilt by a configuration reload keeps counting where
// the previous one stopped. Gauges (sessions, connections, upstream health, keys) are read by
// the caller at scrape time and passed in as a Scrape.
//   metrics::Registry registry("0.1.0", clock.now_seconds());
//   auto vp = registry.virtual_proxy("jwt", workers);          // at runtime build
//   vp->count_request(worker.index, 200, 0.004);                // on worker's thread
//   std::string text = registry.exposition(scrape, now);        // GET /metrics
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/reason.h"

namespace jotgate::metrics {

// A counter of one worker: only its worker writes it (load + store, no locked instruction);
// scrapes read it from any thread.
class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// The upper bounds of jotgate_request_duration_seconds (Prometheus' default buckets).
inline constexpr std::array<double, 11> kDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5,   1,    2.5,   5,    10};

// How a forwarded request went for the upstream it was sent to (label `outcome`).
enum class UpstreamOutcome {
  kAnswered,       // an answer (any status) relayed, or a WebSocket upgraded
  kFailed,         // the upstream broke the exchange
  kTimeout,        // read_timeout passed
  kClientAborted,  // the client went away or sent a broken body meanwhile
};
inline constexpr std::size_t kUpstreamOutcomes = 4;
std::string_view outcome_label(UpstreamOutcome outcome);

// The `reason` of an accepted auth decision: what authenticated the request.
inline constexpr std::array<std::string_view, 5> kAcceptedReasons = {"session", "jwt", "header",
                                                                     "ticket", "anonymous"};

// What the caller reads live at scrape time.
struct Scrape {
  struct Listener {
    std::string name;
    std::size_t connections_open = 0;
  };
  struct Upstream {
    std::string name;  // its URL as configured
    bool healthy = true;
  };
  // Keys fetched from an identity provider (jwt.jwks_uri, discovery).
  struct KeySource {
    std::string name;  // the configured jwks_uri, or the issuer with discovery
    std::uint64_t fetches_ok = 0;
    std::uint64_t fetches_failed = 0;
    std::optional<double> key_age_seconds;  // since the keys in use were fetched; none: no keys
  };
  struct VirtualProxy {
    std::string name;
    std::size_t sessions = 0;
    std::size_t keys_loaded = 0;
    std::vector<Upstream> upstreams;
    std::vector<KeySource> key_sources;
  };
  std::vector<Listener> listeners;
  std::vector<VirtualProxy> virtual_proxies;
};

// The counters of one upstream of a virtual proxy, per worker.
class UpstreamMetrics {
 public:
  explicit UpstreamMetrics(std::size_t workers);
  void count(std::size_t worker, UpstreamOutcome outcome) {
    if (worker < workers_) blocks_[worker].outcomes[static_cast<std::size_t>(outcome)].add();
  }
  std::uint64_t total(UpstreamOutcome outcome) const;

 private:
  struct alignas(64) Block {
    std::array<Counter, kUpstreamOutcomes> outcomes;
  };
  const std::size_t workers_;
  std::unique_ptr<Block[]> blocks_;
};

class VirtualProxyMetrics {
 public:
  VirtualProxyMetrics(std::string name, std::size_t workers);
  const std::string& name() const { return name_; }
  std::size_t workers() const { return workers_; }

  // On worker `worker`'s thread only.
  void count_request(std::size_t worker, int status, double seconds);
  void count_accepted(std::size_t worker, std::string_view signed_in_by);
  void count_rejected(std::size_t worker, Reason reason);
  void count_token_cache(std::size_t worker, bool hit);
  void count_session_created(std::size_t worker);
  void count_websocket_opened(std::size_t worker);
  void count_websocket_closed(std::size_t worker);

  // The counters of upstream `url`, the same object for the same URL (any thread).
  std::shared_ptr<UpstreamMetrics> upstream(const std::string& url);

  // The sums over the workers (scrape).
  struct Totals;
  Totals totals() const;

 private:
  static constexpr int kFirstCode = 100;
  static constexpr std::size_t kCodes = 500;  // 100..599
  static constexpr std::size_t kReasons = static_cast<std::size_t>(Reason::kListenFailed) + 1;
  struct alignas(64) Block {
    std::array<Counter, kCodes> requests;                               // by status - kFirstCode
    std::array<Counter, kDurationBuckets.size() + 1> duration_buckets;  // last: +Inf
    std::atomic<double> duration_sum{0};
    std::array<Counter, kAcceptedReasons.size()> accepted;
    std::array<Counter, kReasons> rejected;
    Counter token_cache_hits;
    Counter token_cache_misses;
    Counter sessions_created;
    Counter websockets_opened;
    Counter websockets_closed;
  };
  Block* block(std::size_t worker) const { return worker < workers_ ? &blocks_[worker] : nullptr; }

  const std::string name_;
  const std::size_t workers_;
  std::unique_ptr<Block[]> blocks_;
  mutable std::mutex upstreams_mutex_;
  std::map<std::string, std::shared_ptr<UpstreamMetrics>> upstreams_;

  friend class Registry;
};

// Sums over the workers of one virtual proxy's counters.
struct VirtualProxyMetrics::Totals {
  std::vector<std::pair<int, std::uint64_t>> requests;               // code, count (non-zero only)
  std::array<std::uint64_t, kDurationBuckets.size() + 1> buckets{};  // not cumulative
  double duration_sum = 0;
  std::uint64_t duration_count = 0;
  std::array<std::uint64_t, kAcceptedReasons.size()> accepted{};
  std::vector<std::pair<Reason, std::uint64_t>> rejected;  // non-zero only
  std::uint64_t token_cache_hits = 0;
  std::uint64_t token_cache_misses = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t websockets_open = 0;
  std::vector<std::pair<std::string, std::array<std::uint64_t, kUpstreamOutcomes>>> upstreams;
};

class Registry {
 public:
  // `version` labels jotgate_build_info; `started_at` is process_start_time_seconds and the
  // first "last successful reload" (the configuration loaded at start).
  Registry(std::string version, UnixSeconds started_at);
  UnixSeconds started_at() const { return started_at_; }

  // The counters of virtual proxy `name` with one block per worker; the same object for the
  // same name, so a rebuilt runtime keeps them. The worker count is the process's: fixed by
  // the first call for a name. Requests that match no virtual proxy count under "".
  std::shared_ptr<VirtualProxyMetrics> virtual_proxy(const std::string& name, std::size_t workers);

  // Every virtual proxy's auth decisions so far, summed, by label: "accepted:<what signed the
  // request in>" (accepted:session, accepted:jwt, ...) or the refusal's reason code.
  std::map<std::string, std::uint64_t> decision_totals() const;

  // A configuration reload (jotgate_config_reloads_total{result}).
  void count_reload(bool ok, UnixSeconds now);

  // The exposition text of every metric (Content-Type kContentType): counters summed over the
  // workers, the gauges from `live`, the process's own figures from /proc.
  std::string exposition(const Scrape& live) const;

 private:
  const std::string version_;
  const UnixSeconds started_at_;
  std::atomic<std::uint64_t> reloads_ok_{0};
  std::atomic<std::uint64_t> reloads_failed_{0};
  std::atomic<UnixSeconds> last_reload_success_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<VirtualProxyMetrics>> virtual_proxies_;  // by name
};

}  // namespace jotgate::metrics
