// Internal to the proxy: what connections of one I/O thread share. A Worker is one thread with
// its own io_context, relay buffers and current runtime snapshot, so the request path takes no
// locks; the Server owns the workers and the ServerState they share.
//   Worker& worker = ...;   std::shared_ptr<const Runtime> runtime = worker.runtime;
//   const ListenerRuntime* listener = runtime->find_listener(listener_id);
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/request_identity.h"
#include "proxy/runtime.h"

namespace jotgate::proxy {

namespace asio = boost::asio;

// Asynchronous operations of the data path report errors as values, never as exceptions.
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// An accepted connection, counted against its listener's limits.max_connections until the
// connection that holds it ends. Taken by the accept loop, so the count is exact when it checks.
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

// What the server shares with every worker: the shutdown flag and the count of open
// connections it waits for.
struct ServerState {
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open_connections{0};
};

// A connection the worker can close when shutting down while it waits for a request, and whose
// wait for the next request the worker times out (see Worker::sweep).
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void close_if_idle() = 0;
  // Closes at once, whatever it is doing (a removed listener's connections after the grace).
  virtual void close_now() = 0;
  virtual std::uint64_t listener_id() const = 0;
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

// One I/O thread: its io_context, its connections and the runtime snapshot it hands to new
// requests. Member order matters: the io_context is destroyed before the connection set
// (pending coroutines own connections that unregister themselves) and the relay buffers.
struct Worker {
  Worker(ServerState& server_state, std::size_t worker_index)
      : server(server_state), index(worker_index) {}
  ServerState& server;
  const std::size_t index;                          // its WorkerUpstreams in the runtime
  std::unordered_set<ConnectionBase*> connections;  // touched only on this worker's thread
  RelayBuffers buffers;  // before the io_context: connections ending with it give leases back
  RequestIdSource request_ids;  // this thread's request ids and new trace ids
  asio::io_context ioc{1};
  // The snapshot new requests take; replaced on this thread only (a reload posts the swap).
  std::shared_ptr<const Runtime> runtime;

  // Waits for a next request are timed out here, a few times a second, instead of arming and
  // cancelling a timer around every read of every connection.
  static constexpr std::chrono::milliseconds kSweepInterval{250};
  void sweep(std::chrono::steady_clock::time_point now) {
    std::vector<ConnectionBase*> all(connections.begin(), connections.end());  // may end some
    for (auto* connection : all) connection->sweep(now);
  }
};

// Starts serving an accepted connection on the worker's thread, with the listener (by
// ListenerRuntime::id) of the worker's current runtime (connection_plain.cpp, connection_tls.cpp).
void start_plain_connection(Worker& worker, std::uint64_t listener_id, asio::ip::tcp::socket socket,
                            ConnectionSlot slot);
void start_tls_connection(Worker& worker, std::uint64_t listener_id, asio::ip::tcp::socket socket,
                          ConnectionSlot slot);

}  // namespace jotgate::proxy
