#include "proxy/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace jotgate::proxy {

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// An idle keep-alive connection is reusable only while the upstream has sent nothing since the
// last exchange ended: a pending EOF means it closed, and pending bytes (a stray answer, a TLS
// alert) would be read as the answer to the next request, which may be another user's.
bool nothing_pending(beast::tcp_stream& stream) {
  char byte;
  ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

beast::tcp_stream& UpstreamConnection::tcp() {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                    stream);
}

UpstreamHealth::UpstreamHealth(std::size_t upstream_count)
    : down_until_(new std::atomic<std::int64_t>[upstream_count == 0 ? 1 : upstream_count]) {
  for (std::size_t i = 0; i < upstream_count; ++i) down_until_[i].store(0);
}

bool UpstreamHealth::is_down(std::size_t id, SteadyClock::time_point now) const {
  return down_until_[id].load(std::memory_order_relaxed) > now.time_since_epoch().count();
}

void UpstreamHealth::mark_down(std::size_t id, SteadyClock::time_point now) {
  down_until_[id].store((now + kRetryAfter).time_since_epoch().count(), std::memory_order_relaxed);
}

void UpstreamHealth::mark_up(std::size_t id) {
  if (down_until_[id].load(std::memory_order_relaxed) != 0) {
    down_until_[id].store(0, std::memory_order_relaxed);
  }
}

UpstreamPool::UpstreamPool(asio::any_io_executor executor, asio::ssl::context& tls,
                           UpstreamHealth& health)
    : executor_(std::move(executor)), tls_(tls), health_(health) {}

std::unique_ptr<UpstreamConnection> UpstreamPool::take_idle(std::size_t id) {
  if (id >= idle_.size()) return nullptr;
  auto& idle = idle_[id];
  auto now = SteadyClock::now();
  while (!idle.empty()) {
    auto connection = std::move(idle.back());
    idle.pop_back();
    if (now - connection->idle_since < kMaxIdleTime && nothing_pending(connection->tcp())) {
      connection->reused = true;
      return connection;
    }
  }
  return nullptr;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  // Bytes read past the end of the answer: the upstream and the gateway disagree on framing.
  if (connection->buffer.size() != 0 || retired_) return;
  if (connection->id >= idle_.size()) idle_.resize(connection->id + 1);
  auto& idle = idle_[connection->id];
  if (idle.size() >= kMaxIdlePerUpstream) return;
  connection->idle_since = SteadyClock::now();
  connection->tcp().expires_never();
  idle.push_back(std::move(connection));
}

asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamPool::acquire(
    const std::vector<UpstreamRuntime>& upstreams, std::size_t& next,
    std::chrono::milliseconds connect_timeout, bool fresh_only) {
  const std::size_t count = upstreams.size();
  const std::size_t start = next++;
  auto now = SteadyClock::now();
  bool any_up = false;
  for (const auto& upstream : upstreams) {
    if (!health_.is_down(upstream.id, now)) any_up = true;
  }
  for (std::size_t k = 0; k < count; ++k) {
    const UpstreamRuntime& upstream = upstreams[(start + k) % count];
    if (any_up && health_.is_down(upstream.id, now)) continue;
    if (!fresh_only) {
      if (auto idle = take_idle(upstream.id)) co_return std::move(idle);
    }
    auto connected = co_await connect(upstream, connect_timeout);
    if (connected) {
      health_.mark_up(upstream.id);
      co_return std::move(*connected);
    }
    health_.mark_down(upstream.id, SteadyClock::now());
  }
  co_return make_error(Reason::kUpstreamUnavailable);
}

asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamPool::connect(
    const UpstreamRuntime& upstream, std::chrono::milliseconds timeout) {
  const config::Upstream& target = upstream.config;
  std::unique_ptr<UpstreamConnection> connection;
  if (target.tls) {
    connection = std::make_unique<UpstreamConnection>(
        upstream.id, std::in_place_type<UpstreamConnection::Tls>, executor_, tls_);
  } else {
    connection = std::make_unique<UpstreamConnection>(
        upstream.id, std::in_place_type<UpstreamConnection::Plain>, executor_);
  }
  beast::tcp_stream& tcp_stream = connection->tcp();
  tcp_stream.expires_after(timeout);

  boost::system::error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    auto [connect_ec] =
        co_await tcp_stream.async_connect(tcp::endpoint(address, target.port), kNoThrow);
    ec = connect_ec;
  } else {
    tcp::resolver resolver(executor_);
    auto [resolve_ec, endpoints] =
        co_await resolver.async_resolve(target.host, std::to_string(target.port), kNoThrow);
    ec = resolve_ec;
    if (!ec) {
      auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
      ec = connect_ec;
    }
  }
  if (ec) co_return make_error(Reason::kUpstreamUnavailable, target.url + ": " + ec.message());
  tcp_stream.socket().set_option(tcp::no_delay(true), ec);

  if (auto* tls = std::get_if<UpstreamConnection::Tls>(&connection->stream)) {
    boost::system::error_code ignored;
    asio::ip::make_address(target.host, ignored);
    if (ignored) {  // SNI only for names, never for IP literals (RFC 6066)
      SSL_set_tlsext_host_name(tls->native_handle(), target.host.c_str());
    }
    tls->set_verify_mode(asio::ssl::verify_peer);
    tls->set_verify_callback(asio::ssl::host_name_verification(target.host));
    auto [handshake_ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, kNoThrow);
    if (handshake_ec) {
      co_return make_error(Reason::kUpstreamUnavailable,
                           target.url + ": TLS handshake: " + handshake_ec.message());
    }
  }
  tcp_stream.expires_never();
  co_return std::move(connection);
}

}  // namespace jotgate::proxy
