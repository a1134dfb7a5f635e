// Internal to the proxy: one forwarded request, from choosing an upstream to the last byte of
// its answer. It sends the request (the body through relay_body, with its deadline), relays the
// answer, retries a request that failed on a reused keep-alive connection before anything was
// answered, and returns what happened and whether the client connection may be kept. It never
// answers an error itself: the connection turns the outcome into an answer.
//   UpstreamExchange<Stream> exchange(client, upstreams, vp, admitted, limits, stopping);
//   ExchangeResult result = co_await exchange.run(std::move(header_parser));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>

#include "proxy/admission.h"
#include "proxy/body_deadline.h"
#include "proxy/body_relay.h"
#include "proxy/client_side.h"

namespace jotgate::proxy {

enum class ExchangeOutcome {
  kDone,             // answered in full
  kUpgraded,         // 101 sent: the tunnel takes over (ExchangeResult::upgraded)
  kUnforwardable,    // the identity cannot be written into a header: 400
  kNoUpstream,       // no upstream could be reached: 502
  kUpstreamFailed,   // the upstream broke the exchange: 502 unless the answer had started
  kUpstreamTimeout,  // 504 unless the answer had started
  kClientFailed,     // the client's connection closed or broke: nothing to answer
  kClientMalformed,  // the client's body framing is broken: 400, then close
  kClientTimeout,    // the client's body came too slowly: 408, then close
};

struct ExchangeResult {
  ExchangeOutcome outcome = ExchangeOutcome::kDone;
  // kDone: the connection may serve a next request. Otherwise: it may after the error answer.
  bool keep_alive = false;
  int status = 0;           // the status relayed to the client; 0 while nothing was
  std::uint64_t bytes = 0;  // body bytes relayed to the client
  std::unique_ptr<UpstreamConnection> upgraded;  // kUpgraded
  const UpstreamRuntime* upstream = nullptr;     // the one it went to last; null: none
};

// How an exchange went for its upstream (jotgate_upstream_requests_total); nullopt: it never
// reached one, or failed before sending (kNoUpstream, kUnforwardable).
inline std::optional<metrics::UpstreamOutcome> upstream_outcome(ExchangeOutcome outcome) {
  switch (outcome) {
    case ExchangeOutcome::kDone:
    case ExchangeOutcome::kUpgraded: return metrics::UpstreamOutcome::kAnswered;
    case ExchangeOutcome::kUpstreamFailed: return metrics::UpstreamOutcome::kFailed;
    case ExchangeOutcome::kUpstreamTimeout: return metrics::UpstreamOutcome::kTimeout;
    case ExchangeOutcome::kClientFailed:
    case ExchangeOutcome::kClientMalformed:
    case ExchangeOutcome::kClientTimeout: return metrics::UpstreamOutcome::kClientAborted;
    case ExchangeOutcome::kNoUpstream:
    case ExchangeOutcome::kUnforwardable: break;
  }
  return std::nullopt;
}

template <class Stream>
class UpstreamExchange {
 public:
  UpstreamExchange(ClientSide<Stream>& client, WorkerUpstreams& upstreams,
                   const VirtualProxyRuntime& vp, const Admission& admitted,
                   const RequestLimits& limits, const std::atomic<bool>& stopping)
      : client_(client),
        upstreams_(upstreams),
        vp_(vp),
        admitted_(admitted),
        limits_(limits),
        stopping_(stopping) {}

  asio::awaitable<ExchangeResult> run(http::request_parser<http::empty_body>& header_parser) {
    ExchangeResult result = co_await exchange(header_parser);
    result.upstream = upstream_;
    co_return result;
  }

 private:
  asio::awaitable<ExchangeResult> exchange(http::request_parser<http::empty_body>& header_parser) {
    auto& request = header_parser.get();
    // Framing as the client sent it, before headers are rewritten.
    const bool chunked = request.chunked();
    const auto content_length = header_parser.content_length();
    const bool expect_continue = [&] {
      auto expect = request.find(http::field::expect);
      return expect != request.end() && beast::iequals(expect->value(), "100-continue");
    }();
    is_head_ = request.method() == http::verb::head;
    client_version_ = request.version();
    client_keep_alive_ = request.keep_alive();

    // `request` belongs to header_parser: not used after this move.
    http::request_parser<http::buffer_body> parser(std::move(header_parser));
    parser.body_limit(boost::none);
    auto& upstream_request = parser.get();
    upstream_request.version(11);
    const bool bodiless = parser.is_done();

    bool continue_sent = false;
    for (int attempt = 0;; ++attempt) {
      auto acquired = co_await upstreams_.pool.acquire(
          vp_.upstreams, upstreams_.round_robin[vp_.index], vp_.connect_timeout, attempt > 0);
      if (!acquired) {
        spdlog::warn("virtual proxy '{}': {}", vp_.config.name, acquired.error().message());
        co_return failed(ExchangeOutcome::kNoUpstream, client_keep_alive_ && bodiless);
      }
      std::unique_ptr<UpstreamConnection> connection = std::move(*acquired);
      // Upstream ids of one virtual proxy are consecutive (see Runtime::create).
      const UpstreamRuntime& upstream = vp_.upstreams[connection->id - vp_.upstreams.front().id];
      upstream_ = &upstream;
      upstream_request.target(build_upstream_target(upstream.config, vp_.config.strip_prefix,
                                                    admitted_.match, admitted_.target));
      ForwardedInfo forwarded{.client_ip = client_.ip(),
                              .tls = ClientSide<Stream>::kTls,
                              .prefix = admitted_.match.prefix,
                              .upstream_host = upstream.host_header};
      if (admitted_.identity != nullptr) {
        forwarded.request_id = admitted_.identity->request_id;
        forwarded.traceparent = admitted_.identity->traceparent;
        forwarded.forward_tracestate = admitted_.identity->forward_tracestate;
      }
      if (attempt == 0) {
        if (!vp_.policy.rewrite_request(upstream_request, admitted_.decision, forwarded,
                                        admitted_.websocket)) {
          co_return failed(ExchangeOutcome::kUnforwardable, client_keep_alive_ && bodiless);
        }
        if (chunked) {
          upstream_request.chunked(true);
        } else if (content_length) {
          upstream_request.content_length(*content_length);
        }
      } else {
        upstream_request.set(http::field::host, upstream.host_header);
      }
      if (expect_continue && !continue_sent && !bodiless) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        client_.tcp().expires_after(limits_.idle_timeout);
        auto [ec, n] =
            co_await asio::async_write(client_.stream(), asio::buffer(kContinue), kNoThrow);
        if (ec) co_return failed(ExchangeOutcome::kClientFailed, false);
        continue_sent = true;
      }

      const ExchangeOutcome sent = co_await std::visit(
          [&](auto& up) { return send_request(up, parser, chunked); }, connection->stream);
      const bool retry = connection->reused && bodiless && attempt == 0;
      if (sent == ExchangeOutcome::kUpstreamFailed && retry) continue;
      if (sent != ExchangeOutcome::kDone) {
        co_return failed(sent, client_keep_alive_ && parser.is_done());
      }

      std::optional<ExchangeResult> answered = co_await std::visit(
          [&](auto& up) { return relay_response(up, connection); }, connection->stream);
      if (!answered && retry) continue;  // no answer at all on a reused connection
      if (!answered) co_return failed(ExchangeOutcome::kUpstreamFailed, client_keep_alive_);
      co_return std::move(*answered);
    }
  }

  static ExchangeResult failed(ExchangeOutcome outcome, bool keep_alive) {
    ExchangeResult result;
    result.outcome = outcome;
    result.keep_alive = keep_alive;
    return result;
  }

  // The client's body, read by the body deadline (limits.body_timeout, body_min_rate).
  struct ClientBodyReader {
    ClientSide<Stream>& client;
    http::request_parser<http::buffer_body>& parser;
    BodyDeadline deadline;
    std::size_t max_line;
    bool done() const { return parser.is_done(); }
    bool buffered() { return client.buffer().size() > 0; }
    asio::awaitable<boost::system::error_code> read(char* data, std::size_t size, std::size_t& n) {
      auto& body = parser.get().body();
      body.data = data;
      body.size = size;
      auto ec = co_await client.read_body_some(parser, deadline.next(), max_line);
      if (ec == http::error::need_buffer) ec = {};
      n = size - body.size;
      deadline.received(n);
      co_return ec;
    }
  };

  // The upstream's body, each read within the virtual proxy's read_timeout.
  template <class Up>
  struct UpstreamBodyReader {
    Up& up;
    beast::flat_buffer& buffer;
    http::response_parser<http::buffer_body>& parser;
    std::chrono::milliseconds timeout;
    bool done() const { return parser.is_done(); }
    bool buffered() const { return buffer.size() > 0; }
    asio::awaitable<boost::system::error_code> read(char* data, std::size_t size, std::size_t& n) {
      auto& body = parser.get().body();
      body.data = data;
      body.size = size;
      beast::get_lowest_layer(up).expires_after(timeout);
      auto [ec, read] = co_await http::async_read_some(up, buffer, parser, kNoThrow);
      if (ec == http::error::need_buffer) ec = {};
      n = size - body.size;
      co_return ec;
    }
  };

  // Why reading the client's body failed: a framing error (a bad chunk size, a bare LF) is
  // answered 400, a client too slow 408; a connection that closed or broke is not answered.
  static ExchangeOutcome client_read_failure(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return ExchangeOutcome::kClientTimeout;
    const bool parse_error =
        ec.category() == http::make_error_code(http::error::bad_chunk).category();
    if (parse_error && ec != http::error::partial_message && ec != http::error::end_of_stream) {
      return ExchangeOutcome::kClientMalformed;
    }
    return ExchangeOutcome::kClientFailed;
  }

  // Client request -> upstream: the header leaves with the first body bytes.
  template <class Up>
  asio::awaitable<ExchangeOutcome> send_request(Up& up,
                                                http::request_parser<http::buffer_body>& parser,
                                                bool chunked) {
    write_head(parser.get(), client_.head_text());
    ClientBodyReader reader{client_, parser,
                            BodyDeadline(limits_.body_timeout, limits_.body_min_rate),
                            limits_.max_header_bytes};
    const auto timeout = vp_.read_timeout;
    auto write = [&up, timeout](const auto& buffers) -> asio::awaitable<boost::system::error_code> {
      beast::get_lowest_layer(up).expires_after(timeout);
      auto [ec, written] = co_await asio::async_write(up, buffers, kNoThrow);
      co_return ec;
    };
    const RelayEnd end =
        co_await relay_body(client_.head_text(), BodyFramer(chunked), client_.relay_buffer(),
                            client_.relay_size(), reader, write, HeadFirst::kNo);
    if (end.failed == RelayFailure::kRead) co_return client_read_failure(end.ec);
    if (end.failed == RelayFailure::kWrite) {
      co_return end.ec == beast::error::timeout ? ExchangeOutcome::kUpstreamTimeout
                                                : ExchangeOutcome::kUpstreamFailed;
    }
    co_return ExchangeOutcome::kDone;
  }

  // Upstream answer -> client. nullopt: the upstream closed without a byte of an answer.
  template <class Up>
  asio::awaitable<std::optional<ExchangeResult>> relay_response(
      Up& up, std::unique_ptr<UpstreamConnection>& connection) {
    std::optional<http::response_parser<http::buffer_body>> parser;
    bool got_bytes = false;
    for (;;) {
      parser.emplace();
      parser->body_limit(boost::none);
      parser->header_limit(64 * 1024);
      if (is_head_) parser->skip(true);
      beast::get_lowest_layer(up).expires_after(vp_.read_timeout);
      auto [ec, n] = co_await http::async_read_header(up, connection->buffer, *parser, kNoThrow);
      if (ec == beast::error::timeout)
        co_return failed(ExchangeOutcome::kUpstreamTimeout, client_keep_alive_);
      if (ec && !got_bytes) co_return std::nullopt;
      if (ec) co_return failed(ExchangeOutcome::kUpstreamFailed, client_keep_alive_);
      got_bytes = true;
      // Interim answers (100 Continue, 103) are not relayed; the final one follows.
      const int status = parser->get().result_int();
      if (status >= 100 && status < 200 && status != 101) continue;
      break;
    }
    auto& response = parser->get();
    const bool upgrade = response.result() == http::status::switching_protocols;
    if (upgrade && !admitted_.websocket)
      co_return failed(ExchangeOutcome::kUpstreamFailed, client_keep_alive_);
    const bool upstream_keep_alive = response.keep_alive();
    const bool chunked = response.chunked();
    const auto content_length = parser->content_length();
    const bool until_close = !upgrade && !parser->is_done() && !chunked && !content_length;

    vp_.policy.rewrite_response(response, admitted_.decision, upgrade);
    if (!upgrade && !admitted_.cors_origin.empty()) {
      vp_.cors.add_headers(response, admitted_.cors_origin);
    }
    bool keep_alive = client_keep_alive_ && !stopping_.load(std::memory_order_relaxed);
    if (!upgrade) {
      if (client_version_ < 11 && (chunked || until_close)) {
        // HTTP/1.0 clients know no chunks: the body ends when the connection closes.
        response.chunked(false);
        keep_alive = false;
      } else if (chunked || until_close) {
        // A body delimited by the upstream closing is chunked for HTTP/1.1 clients.
        response.chunked(true);
      } else if (content_length) {
        response.content_length(*content_length);
      }
      response.version(11);
      response.keep_alive(keep_alive);
    }

    write_head(response, client_.head_text());
    ExchangeResult result;
    result.status = response.result_int();
    if (upgrade) {
      client_.tcp().expires_after(limits_.idle_timeout);
      auto [ec, n] =
          co_await asio::async_write(client_.stream(), asio::buffer(client_.head_text()), kNoThrow);
      result.outcome = ec ? ExchangeOutcome::kClientFailed : ExchangeOutcome::kUpgraded;
      if (!ec) result.upgraded = std::move(connection);
      co_return result;
    }
    // Each read is written at once (server-sent events, long polls), chunked anew for HTTP/1.1
    // clients when the upstream chunked it or ends it by closing. Answers to HEAD, 204 and 304
    // have no body.
    const int status = response.result_int();
    UpstreamBodyReader<Up> reader{up, connection->buffer, *parser, vp_.read_timeout};
    const auto idle_timeout = limits_.idle_timeout;
    auto write = [this,
                  idle_timeout](const auto& buffers) -> asio::awaitable<boost::system::error_code> {
      client_.tcp().expires_after(idle_timeout);
      auto [ec, written] = co_await asio::async_write(client_.stream(), buffers, kNoThrow);
      co_return ec;
    };
    const RelayEnd end = co_await relay_body(
        client_.head_text(),
        BodyFramer(response.chunked() && !is_head_ && status != 204 && status != 304),
        client_.relay_buffer(), client_.relay_size(), reader, write, HeadFirst::kYes);
    result.bytes = end.bytes;
    if (end.failed != RelayFailure::kNone) {
      // Cut mid-body on either side: the client connection cannot be reused.
      result.outcome = ExchangeOutcome::kClientFailed;
      co_return result;
    }
    if (upstream_keep_alive && !until_close && parser->is_done()) {
      upstreams_.pool.release(std::move(connection));
    }
    result.outcome = ExchangeOutcome::kDone;
    result.keep_alive = keep_alive;
    co_return result;
  }

  ClientSide<Stream>& client_;
  WorkerUpstreams& upstreams_;
  const VirtualProxyRuntime& vp_;
  const Admission& admitted_;
  const RequestLimits& limits_;
  const std::atomic<bool>& stopping_;
  const UpstreamRuntime* upstream_ = nullptr;
  bool is_head_ = false;
  bool client_keep_alive_ = true;
  unsigned client_version_ = 11;
};

}  // namespace jotgate::proxy
