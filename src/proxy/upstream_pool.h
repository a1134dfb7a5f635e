// Upstream connections: plain or TLS streams to the "engine" servers, a per-thread keep-alive
// pool (no locks), round robin and passive health shared by all threads (atomics only).
//   auto conn = co_await worker.pool.acquire(vp.upstreams, rr_slot, timeout, false);
//   if (!conn) answer_502();  else { use(**conn); worker.pool.release(std::move(*conn)); }
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "base/result.h"
#include "config/gateway_config.h"
#include "metrics/registry.h"

namespace jotgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

// One configured upstream, with what is computed once: its pool slot and Host header.
struct UpstreamRuntime {
  config::Upstream config;                            // a copy (see Runtime)
  std::size_t id = 0;                                 // index into the health table and the pools
  std::string host_header;                            // "host:port"
  std::shared_ptr<metrics::UpstreamMetrics> metrics;  // null: not counted
};

struct UpstreamConnection {
  using Plain = beast::tcp_stream;
  using Tls = asio::ssl::stream<beast::tcp_stream>;

  template <class... Args>
  explicit UpstreamConnection(std::size_t upstream_id, Args&&... args)
      : stream(std::forward<Args>(args)...), id(upstream_id) {
    // Beast reads at most the buffer's free capacity: a small buffer means many tiny reads.
    buffer.reserve(kReadBufferSize);
  }
  static constexpr std::size_t kReadBufferSize = 16 * 1024;

  beast::tcp_stream& tcp();

  std::variant<Plain, Tls> stream;
  beast::flat_buffer buffer;  // bytes read from the upstream not yet parsed
  std::size_t id;
  bool reused = false;  // came from the pool: may have been closed by the upstream meanwhile
  std::chrono::steady_clock::time_point idle_since;
};

// Passive health: an upstream that failed to connect is skipped for kRetryAfter.
class UpstreamHealth {
 public:
  static constexpr std::chrono::seconds kRetryAfter{10};
  explicit UpstreamHealth(std::size_t upstream_count);
  bool is_down(std::size_t id, std::chrono::steady_clock::time_point now) const;
  void mark_down(std::size_t id, std::chrono::steady_clock::time_point now);
  void mark_up(std::size_t id);

 private:
  std::unique_ptr<std::atomic<std::int64_t>[]> down_until_;  // steady ticks; 0 = up
};

class UpstreamPool {
 public:
  static constexpr std::size_t kMaxIdlePerUpstream = 64;
  static constexpr std::chrono::seconds kMaxIdleTime{30};

  UpstreamPool(asio::any_io_executor executor, asio::ssl::context& tls, UpstreamHealth& health);

  // Round robin from `*next` over `upstreams`, skipping those marked down (unless all are);
  // reuses an idle connection on which the upstream sent nothing since (see take_idle) unless
  // `fresh_only`. kUpstreamUnavailable when none answers.
  asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> acquire(
      const std::vector<UpstreamRuntime>& upstreams, std::size_t& next,
      std::chrono::milliseconds connect_timeout, bool fresh_only);
  // Back to the pool after a keep-alive exchange that ended cleanly: the request sent whole, the
  // answer read whole and nothing read past it (else the connection is closed).
  void release(std::unique_ptr<UpstreamConnection> connection);
  // Closes every idle connection (shutdown).
  void close_idle() { idle_.clear(); }
  // Closes every idle connection and keeps none from now on: the pool of a runtime a reload
  // replaced, so that nothing of it outlives the worker's io_context (on its thread only).
  void retire() {
    retired_ = true;
    close_idle();
  }

 private:
  std::unique_ptr<UpstreamConnection> take_idle(std::size_t id);
  asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> connect(
      const UpstreamRuntime& upstream, std::chrono::milliseconds timeout);

  asio::any_io_executor executor_;
  asio::ssl::context& tls_;
  UpstreamHealth& health_;
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // by upstream id
  bool retired_ = false;
};

}  // namespace jotgate::proxy
