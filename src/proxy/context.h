// Internal to the proxy: what sessions share. ProxyContext is built once per config snapshot
// and read-only afterwards (except the atomics); a Worker is one I/O thread with its own
// io_context and upstream pool, so the request path takes no locks.
//   ProxyContext& ctx = worker.ctx;
//   auto match = ctx.listeners[i].routes.match(path);
//   const VirtualProxyRuntime& vp = ctx.virtual_proxies[match->virtual_proxy_index];
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "auth/gate.h"
#include "config/gateway_config.h"
#include "proxy/access_log.h"
#include "proxy/cors.h"
#include "proxy/header_rewrite.h"
#include "proxy/request_path.h"
#include "proxy/upstream_pool.h"

namespace jotgate::proxy {

namespace asio = boost::asio;

struct VirtualProxyRuntime {
  const config::VirtualProxy* config = nullptr;
  std::size_t index = 0;
  auth::Gate* gate = nullptr;
  HeaderPolicy policy;
  std::vector<std::string> host_allow_list;  // lower case
  std::vector<UpstreamRuntime> upstreams;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{60000};
  CorsPolicy cors;
};

// An accepted connection, counted against its listener's limits.max_connections until the
// session that holds it ends. Taken by the accept loop, so the count is exact when it checks.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<std::size_t>& open) : open_(&open) { open_->fetch_add(1); }
  ConnectionSlot(ConnectionSlot&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (open_ != nullptr) open_->fetch_sub(1);
  }

 private:
  std::atomic<std::size_t>* open_;
};

struct ListenerRuntime {
  const config::Listener* config = nullptr;
  std::size_t index = 0;
  RouteTable routes;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  // Connections open on this listener (a pointer: the runtime is moved into a vector).
  std::unique_ptr<std::atomic<std::size_t>> open_connections =
      std::make_unique<std::atomic<std::size_t>>(0);
};

struct ProxyContext {
  const config::GatewayConfig* config = nullptr;
  std::vector<VirtualProxyRuntime> virtual_proxies;
  std::vector<ListenerRuntime> listeners;
  std::unique_ptr<AccessLog> access_log;  // null: `access_log: off`
  std::unique_ptr<UpstreamHealth> health;
  std::shared_ptr<asio::ssl::context> upstream_tls;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds body_timeout{30000};  // see BodyDeadline
  std::uint64_t body_min_rate = 1024;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open_sessions{0};
};

// A connection the worker can close when shutting down while it waits for a request, and whose
// wait for the next request the worker times out (see Worker::sweep).
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close_if_idle() = 0;
  // Closes the connection when it has waited for a request past its deadline.
  virtual void sweep(std::chrono::steady_clock::time_point now) = 0;
};

// Body and tunnel buffers of one worker's connections, handed out while a transfer runs and
// kept for the next one: memory follows the transfers in progress, not the open connections.
class RelayBuffers {
 public:
  static constexpr std::size_t kSize = 16 * 1024;
  static constexpr std::size_t kMaxSpare = 256;
  using Buffer = std::array<char, kSize>;

  class Lease {
   public:
    Lease() = default;
    Lease(RelayBuffers* pool, std::unique_ptr<Buffer> buffer)
        : pool_(pool), buffer_(std::move(buffer)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&& other) noexcept {
      release();
      pool_ = other.pool_;
      buffer_ = std::move(other.buffer_);
      return *this;
    }
    ~Lease() { release(); }
    explicit operator bool() const { return buffer_ != nullptr; }
    char* data() { return buffer_->data(); }
    static constexpr std::size_t size() { return kSize; }
    void release() {
      if (buffer_ && pool_ != nullptr) pool_->give_back(std::move(buffer_));
      buffer_.reset();
    }

   private:
    RelayBuffers* pool_ = nullptr;
    std::unique_ptr<Buffer> buffer_;
  };

  Lease take() {
    if (spare_.empty()) return Lease(this, std::make_unique<Buffer>());
    auto buffer = std::move(spare_.back());
    spare_.pop_back();
    return Lease(this, std::move(buffer));
  }

 private:
  void give_back(std::unique_ptr<Buffer> buffer) {
    if (spare_.size() < kMaxSpare) spare_.push_back(std::move(buffer));
  }
  std::vector<std::unique_ptr<Buffer>> spare_;
};

// Member order matters: the io_context is destroyed after the pool (its sockets) and before
// the session set (pending coroutines own sessions that unregister themselves).
struct Worker {
  explicit Worker(ProxyContext& context)
      : ctx(context),
        round_robin(context.virtual_proxies.size(), 0),
        pool(ioc.get_executor(), *context.upstream_tls, *context.health) {}
  ProxyContext& ctx;
  std::unordered_set<SessionBase*> sessions;  // touched only on this worker's thread
  std::vector<std::size_t> round_robin;       // next upstream, by virtual proxy index
  RelayBuffers buffers;  // before the io_context: connections ending with it give leases back
  asio::io_context ioc{1};
  UpstreamPool pool;

  // Waits for a next request are timed out here, a few times a second, instead of arming and
  // cancelling a timer around every read of every connection.
  static constexpr std::chrono::milliseconds kSweepInterval{250};
  void sweep(std::chrono::steady_clock::time_point now) {
    std::vector<SessionBase*> all(sessions.begin(), sessions.end());  // sweeping may end some
    for (auto* session : all) session->sweep(now);
  }
};

// Start a session on the worker's thread (session_plain.cpp, session_tls.cpp).
void start_plain_session(Worker& worker, const ListenerRuntime& listener,
                         asio::ip::tcp::socket socket, ConnectionSlot slot);
void start_tls_session(Worker& worker, const ListenerRuntime& listener,
                       asio::ip::tcp::socket socket, ConnectionSlot slot);

}  // namespace jotgate::proxy
