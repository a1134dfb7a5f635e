// Internal to the proxy: the client's side of one connection, plain or TLS (Stream is
// beast::tcp_stream or ssl::stream<beast::tcp_stream>): the stream, the bytes read and not yet
// parsed, the relay buffer of the current request, and reading a request body by a deadline.
// The connection owns it; the upstream exchange and the tunnel work on it.
//   ClientSide<beast::tcp_stream> client(std::move(stream), worker);
//   auto ec = co_await client.read_body_some(parser, deadline.next(), max_line);
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "proxy/request_framing.h"
#include "proxy/worker.h"

namespace jotgate::proxy {

namespace beast = boost::beast;

template <class Stream>
class ClientSide {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  static constexpr std::size_t kReadSize = 4096;

  ClientSide(Stream stream, Worker& worker) : stream_(std::move(stream)), worker_(worker) {
    boost::system::error_code ec;
    auto endpoint = tcp().socket().remote_endpoint(ec);
    if (!ec) ip_ = endpoint.address().to_string();
  }

  // The connection that owns this side: the body deadline's timer checks it is still alive.
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  Stream& stream() { return stream_; }
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  beast::flat_buffer& buffer() { return buffer_; }  // read from the client, not yet parsed
  const std::string& ip() const { return ip_; }
  std::string& head_text() { return head_; }  // a header block being written, reused
  Worker& worker() { return worker_; }

  // The relay buffer of the current request, taken from the worker on first use and given back
  // when the request ends: memory follows transfers, not connections.
  char* relay_buffer() {
    if (!relay_) relay_ = worker_.buffers.take();
    return relay_.data();
  }
  static constexpr std::size_t relay_size() { return RelayBuffers::kSize; }
  void release_relay() { relay_.release(); }

  void close() {
    boost::system::error_code ec;
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    tcp().socket().close(ec);
  }

  // Reads more of the client's body into `parser` by `deadline`: the loop of
  // http::async_read_some, with two checks of its own. A line that Beast waits on to end (a
  // chunk size, trailers) is malformed at once when it holds a bare LF or outgrows `max_line`,
  // instead of waiting for a CRLF that never comes. The deadline cancels the read without
  // closing the socket (the stream's own timeout would), so a 408 can be written.
  asio::awaitable<boost::system::error_code> read_body_some(
      http::request_parser<http::buffer_body>& parser,
      std::chrono::steady_clock::time_point deadline, std::size_t max_line) {
    for (;;) {
      if (buffer_.size() > 0) {
        boost::system::error_code ec;
        const std::size_t used = parser.put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec != http::error::need_more && (ec || used > 0 || parser.is_done())) co_return ec;
        const std::string_view pending(static_cast<const char*>(buffer_.data().data()),
                                       buffer_.size());
        if (has_bare_lf(pending) || pending.size() > max_line) co_return http::error::bad_chunk;
      }
      tcp().expires_never();
      if (!body_timer_) body_timer_.emplace(tcp().get_executor());
      const std::uint64_t read = ++body_reads_;
      body_timer_->expires_at(deadline);
      body_timer_->async_wait([this, owner = owner_, read](const boost::system::error_code& ec) {
        auto alive = owner.lock();
        // Cancelled, or fired after its read had finished: nothing to do.
        if (ec || !alive || body_reads_ != read) return;
        body_timed_out_ = true;
        boost::system::error_code ignored;
        tcp().socket().cancel(ignored);
      });
      body_timed_out_ = false;
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kReadSize), kNoThrow);
      ++body_reads_;  // a wait that fires from now on belongs to no read
      body_timer_->cancel();
      if (body_timed_out_) co_return beast::error::timeout;
      if (ec == asio::error::eof) {
        boost::system::error_code eof_ec;
        parser.put_eof(eof_ec);  // a body cut short: partial_message
        co_return eof_ec;
      }
      if (ec) co_return ec;
      buffer_.commit(n);
    }
  }

 private:
  Stream stream_;
  Worker& worker_;
  beast::flat_buffer buffer_;
  std::string ip_;
  std::string head_;
  RelayBuffers::Lease relay_;  // held only while a request's body moves
  std::weak_ptr<void> owner_;
  // The body read deadline (see read_body_some), made on the first body read.
  std::optional<asio::steady_timer> body_timer_;
  std::uint64_t body_reads_ = 0;
  bool body_timed_out_ = false;
};

}  // namespace jotgate::proxy
