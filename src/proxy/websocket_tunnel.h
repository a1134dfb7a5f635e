// Internal to the proxy: a WebSocket after its 101, as bytes both ways until either side closes
// (no frame parsing: the upstream speaks the protocol). It owns the upstream connection and its
// activity state: traffic keeps the user's sign-in session alive, at most once per interval.
// Plain TCP sides are waited on without a buffer, so a quiet WebSocket holds none.
//   auto tunnel = std::make_shared<WebSocketTunnel<Client, Up>>(client, client_buffer, ...);
//   co_await tunnel->run();   // returns when either side closed; both are closed then
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "auth/gate.h"
#include "proxy/upstream_pool.h"
#include "proxy/worker.h"

namespace jotgate::proxy {

template <class Client, class Up>
class WebSocketTunnel final : public std::enable_shared_from_this<WebSocketTunnel<Client, Up>> {
 public:
  // A TLS side reads into one of these; small, so that 10k open WebSockets stay affordable
  // (larger messages take several reads).
  using TlsBuffer = std::array<char, 4 * 1024>;

  // `client` and `client_buffer` (bytes the client sent after its upgrade request) belong to
  // the connection, which `owner` keeps alive while the tunnel runs.
  WebSocketTunnel(Client& client, beast::flat_buffer& client_buffer,
                  std::unique_ptr<UpstreamConnection> upstream, RelayBuffers& buffers,
                  auth::Gate* gate, std::uint64_t session_handle,
                  std::chrono::seconds inactivity_timeout, std::shared_ptr<void> owner)
      : client_(client),
        client_buffer_(client_buffer),
        upstream_(std::move(upstream)),
        buffers_(buffers),
        gate_(gate),
        session_handle_(session_handle),
        // Often enough that a short inactivity timeout cannot expire while traffic flows.
        touch_interval_(std::min<std::chrono::milliseconds>(
            std::chrono::seconds(5),
            std::chrono::duration_cast<std::chrono::milliseconds>(inactivity_timeout) / 4)),
        owner_(std::move(owner)) {}

  boost::asio::awaitable<void> run() {
    beast::get_lowest_layer(client_).expires_never();
    upstream_->tcp().expires_never();
    boost::asio::co_spawn(beast::get_lowest_layer(client_).get_executor(),
                          pump_up(this->shared_from_this()), boost::asio::detached);
    co_await pump_down(this->shared_from_this());
  }

 private:
  Up& up() { return std::get<Up>(upstream_->stream); }

  // Client -> upstream, starting with bytes the client sent right after its upgrade request.
  // The parameter keeps the tunnel alive while the pump runs (it is kept in the frame).
  boost::asio::awaitable<void> pump_up(std::shared_ptr<WebSocketTunnel> /*self*/) {
    bool open = true;
    if (client_buffer_.size() > 0) {
      auto [ec, n] = co_await boost::asio::async_write(up(), client_buffer_.data(), kNoThrow);
      open = !ec;
    }
    client_buffer_.consume(client_buffer_.size());
    client_buffer_.shrink_to_fit();
    if (open) co_await relay_bytes(client_, up(), up_buffer_);
    close();
  }

  // Upstream -> client, starting with bytes the upstream sent right after its 101.
  boost::asio::awaitable<void> pump_down(std::shared_ptr<WebSocketTunnel> /*self*/) {
    bool open = true;
    beast::flat_buffer& pending = upstream_->buffer;
    if (pending.size() > 0) {
      auto [ec, n] = co_await boost::asio::async_write(client_, pending.data(), kNoThrow);
      open = !ec;
    }
    pending.consume(pending.size());
    pending.shrink_to_fit();
    if (open) co_await relay_bytes(up(), client_, down_buffer_);
    close();
  }

  // Bytes from one side to the other until either fails. A plain TCP side is waited on without
  // a buffer, which is borrowed from the worker only to move what arrived. A TLS side may hold
  // decrypted bytes the socket does not show, so it reads into its own small buffer.
  template <class From, class To>
  boost::asio::awaitable<void> relay_bytes(From& from, To& to, std::unique_ptr<TlsBuffer>& own) {
    for (;;) {
      RelayBuffers::Lease lease;
      boost::asio::mutable_buffer space;
      if constexpr (std::is_same_v<From, beast::tcp_stream>) {
        auto [ec] =
            co_await from.socket().async_wait(boost::asio::ip::tcp::socket::wait_read, kNoThrow);
        if (ec) co_return;
        lease = buffers_.take();
        space = boost::asio::buffer(lease.data(), lease.size());
      } else {
        if (!own) own = std::make_unique<TlsBuffer>();
        space = boost::asio::buffer(*own);
      }
      auto [ec, n] = co_await from.async_read_some(space, kNoThrow);
      if (ec) co_return;
      auto [write_ec, written] =
          co_await boost::asio::async_write(to, boost::asio::buffer(space.data(), n), kNoThrow);
      if (write_ec) co_return;
      touch();
    }
  }

  void touch() {
    if (session_handle_ == 0 || gate_ == nullptr) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_touch_ < touch_interval_) return;
    last_touch_ = now;
    gate_->touch(session_handle_);
  }

  void close() {
    boost::system::error_code ec;
    upstream_->tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    upstream_->tcp().socket().close(ec);
    auto& socket = beast::get_lowest_layer(client_).socket();
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  Client& client_;
  beast::flat_buffer& client_buffer_;
  std::unique_ptr<UpstreamConnection> upstream_;
  RelayBuffers& buffers_;
  auth::Gate* gate_;
  std::uint64_t session_handle_;
  std::chrono::milliseconds touch_interval_;
  std::chrono::steady_clock::time_point last_touch_{};
  std::unique_ptr<TlsBuffer> up_buffer_;
  std::unique_ptr<TlsBuffer> down_buffer_;
  std::shared_ptr<void> owner_;  // the connection: its stream and buffer outlive the tunnel
};

}  // namespace jotgate::proxy
