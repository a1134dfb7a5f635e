// Internal to the proxy: one client connection, plain or TLS (Stream is beast::tcp_stream or
// ssl::stream<beast::tcp_stream>), as Boost.Beast's advanced server shapes an http_session. Its
// life reads top to bottom: handshake, then per request: take the worker's runtime snapshot,
// read the head (limits, timeouts), admit it (proxy/admission.h: no sockets), then answer,
// read a form, or forward it (UpstreamExchange); an accepted upgrade becomes a WebSocketTunnel.
// Included only by connection_plain.cpp and connection_tls.cpp (one instantiation each).
//   auto connection = std::make_shared<HttpConnection<beast::tcp_stream>>(worker, 0, stream, slot);
//   asio::co_spawn(worker.ioc, connection->run(connection), asio::detached);
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include "proxy/admission.h"
#include "proxy/auth_endpoints.h"
#include "proxy/client_side.h"
#include "proxy/request_framing.h"
#include "proxy/upstream_exchange.h"
#include "proxy/websocket_tunnel.h"

namespace jotgate::proxy {

template <class Stream>
class HttpConnection final : public ConnectionBase,
                             public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  HttpConnection(Worker& worker, std::uint64_t listener_id, Stream stream, ConnectionSlot slot)
      : worker_(worker),
        listener_id_(listener_id),
        runtime_(worker.runtime),
        listener_(runtime_->find_listener(listener_id)),
        slot_(std::move(slot)),
        client_(std::move(stream), worker) {
    worker_.connections.insert(this);
    worker_.server.open_connections.fetch_add(1);
  }
  ~HttpConnection() override {
    worker_.connections.erase(this);
    worker_.server.open_connections.fetch_sub(1);
  }

  void close_if_idle() override {
    if (idle_) client_.close();
  }
  void close_now() override { client_.close(); }
  std::uint64_t listener_id() const override { return listener_id_; }

  void sweep(std::chrono::steady_clock::time_point now) override {
    if (idle_ && now >= idle_deadline_) client_.close();
  }

  asio::awaitable<void> run(std::shared_ptr<HttpConnection> self) {
    client_.set_owner(self);
    // The data path reports errors as values; this only guards against the unexpected
    // (allocation failure) ending the process.
    try {
      co_await serve(self);
    } catch (const std::exception& e) {
      spdlog::error("connection from {} ended: {}", client_.ip(), e.what());
    }
  }

 private:
  static constexpr bool kTls = ClientSide<Stream>::kTls;
  static constexpr std::size_t kIdleReadSize = 2048;

  // Per-request facts that end up in the access log.
  struct Record {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::string method;
    std::string_view path;  // into target_text_, which outlives the record
    int status = 0;
    std::uint64_t bytes = 0;
    const VirtualProxyRuntime* vp = nullptr;
    std::string user;
    RequestIds ids;  // into identity_; empty until the head was read
  };

  bool stopping() const { return worker_.server.stopping.load(std::memory_order_relaxed); }
  const ListenerRuntime& listener() const { return *listener_; }
  ClientInfo client_info() const { return ClientInfo{client_.ip(), kTls}; }

  asio::awaitable<void> serve(std::shared_ptr<HttpConnection> self) {
    if (listener_ == nullptr) co_return;  // its listener was removed before it started
    if constexpr (kTls) {
      client_.tcp().expires_after(runtime_->limits.handshake_timeout);
      auto [ec] =
          co_await client_.stream().async_handshake(asio::ssl::stream_base::server, kNoThrow);
      if (ec) co_return;
    }
    bool first = true;
    while (!stopping()) {
      auto& buffer = client_.buffer();
      if (buffer.size() == 0) {
        // Waiting for the next request: idle timeout; the first one gets the header timeout.
        // The worker's sweep closes the connection at the deadline (no timer per wait).
        idle_ = true;
        client_.tcp().expires_never();
        const RequestLimits& limits = worker_.runtime->limits;
        idle_deadline_ = std::chrono::steady_clock::now() +
                         (first ? limits.header_timeout : limits.idle_timeout);
        // A small read buffer while waiting: 10k idle keep-alive connections cost 10k times
        // this. (A wait for readability without any buffer costs an epoll_ctl per request.)
        // Larger headers make the buffer grow while they are read; it shrinks back here.
        if (buffer.capacity() > kIdleReadSize) buffer.shrink_to_fit();
        auto [ec, n] =
            co_await client_.stream().async_read_some(buffer.prepare(kIdleReadSize), kNoThrow);
        idle_ = false;
        if (ec) co_return;  // closed, idle timeout or shutdown: nothing to answer
        buffer.commit(n);
      }
      first = false;
      // A request keeps the snapshot it started with; the next one takes the current one, unless
      // a reload removed this connection's listener: then the connection ends.
      if (runtime_ != worker_.runtime) {
        runtime_ = worker_.runtime;
        listener_ = runtime_->find_listener(listener_id_);
        if (listener_ == nullptr) break;
      }
      Record record;
      const bool keep_alive = co_await serve_request(self, record);
      client_.release_relay();  // back to the worker until the next transfer
      if (record.status != 0) log(record);
      if (!keep_alive) break;
    }
    co_await graceful_close();
  }

  asio::awaitable<void> graceful_close() {
    if constexpr (kTls) {
      client_.tcp().expires_after(std::chrono::seconds(2));
      co_await client_.stream().async_shutdown(kNoThrow);
    }
    boost::system::error_code ec;
    client_.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    client_.close();
  }

  // The access log line and the request's metrics (vp="" when no virtual proxy matched).
  void log(const Record& record) {
    const auto elapsed = std::chrono::steady_clock::now() - record.start;
    metrics::VirtualProxyMetrics* counters =
        record.vp != nullptr ? record.vp->metrics.get() : runtime_->unrouted_metrics.get();
    if (counters != nullptr) {
      counters->count_request(worker_.index, record.status,
                              std::chrono::duration<double>(elapsed).count());
    }
    if (!runtime_->access_log) return;
    AccessRecord line;
    line.client_ip = client_.ip();
    line.method = record.method;
    line.path = record.path;
    line.status = record.status;
    line.bytes = record.bytes;
    line.duration_ms = std::chrono::duration<double, std::milli>(elapsed).count();
    if (record.vp != nullptr) line.virtual_proxy = record.vp->config.name;
    line.user = record.user;
    line.ids = record.ids;
    runtime_->access_log->write(line);
  }

  // Writes an answer of the gateway itself; true when the connection may serve a next request.
  // A body without a Content-Type is plain text and ends with a line break. The virtual
  // proxy's response_headers and, for an allowed origin, the CORS headers are added.
  asio::awaitable<bool> write_answer(Record& record, Answer reply, bool keep_alive,
                                     std::string_view cors_origin = {}) {
    http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
    bool has_type = false;
    for (const auto& [name, value] : reply.headers) {
      if (beast::iequals(name, "content-type")) has_type = true;
      response.insert(name, value);
    }
    const bool bodiless = reply.status == 204 || reply.status == 304;
    if (!has_type && !bodiless)
      response.set(http::field::content_type, "text/plain; charset=utf-8");
    if (record.vp != nullptr) {
      record.vp->policy.add_response_headers(response);
      // An allowed page can read the gateway's answers too (a 401 tells it to sign in again).
      if (!cors_origin.empty()) record.vp->cors.add_headers(response, cors_origin);
    }
    std::string& body = reply.body;
    if (!body.empty() && body.back() != '\n' && !has_type) body.push_back('\n');
    response.body() = std::move(body);
    keep_alive = keep_alive && !stopping();
    response.keep_alive(keep_alive);
    response.prepare_payload();
    record.status = reply.status;
    client_.tcp().expires_after(runtime_->limits.idle_timeout);
    if (record.method == "HEAD") {
      // The header as for GET (Content-Length included), no body: the client reads none.
      http::response_serializer<http::string_body> serializer(response);
      auto [ec, n] = co_await http::async_write_header(client_.stream(), serializer, kNoThrow);
      co_return keep_alive && !ec;
    }
    record.bytes = response.body().size();
    auto [ec, n] = co_await http::async_write(client_.stream(), response, kNoThrow);
    co_return keep_alive && !ec;
  }

  void count_gate_decision(const VirtualProxyRuntime* vp,
                           const std::optional<auth::DecisionStats>& decided) const {
    if (decided && vp != nullptr && vp->metrics) {
      count_decision(*vp->metrics, worker_.index, *decided);
    }
  }

  asio::awaitable<bool> refuse(Record& record, Reason reason, bool keep_alive) {
    co_return co_await write_answer(record, answer_for(make_error(reason)), keep_alive);
  }

  asio::awaitable<bool> serve_request(std::shared_ptr<HttpConnection> self, Record& record) {
    const RequestLimits& limits = runtime_->limits;
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // Bodies are streamed, never held: no size limit (Beast checks Content-Length against it
    // while parsing the header).
    header_parser.body_limit(boost::none);
    client_.tcp().expires_after(limits.header_timeout);
    const HeadRead head = co_await read_head(header_parser);
    if (head.ec == http::error::header_limit) {
      co_return co_await refuse(
          record, head.start_line_done ? Reason::kHeaderTooLarge : Reason::kRequestLineTooLong,
          false);
    }
    if (head.ec == beast::error::timeout || head.ec == http::error::end_of_stream ||
        head.ec == asio::error::eof || head.ec == asio::error::operation_aborted ||
        head.ec == asio::error::connection_reset) {
      co_return false;
    }
    if (head.ec) co_return co_await refuse(record, Reason::kRequestMalformed, false);
    if (head.obs_fold) co_return co_await refuse(record, Reason::kObsFold, false);

    auto& request = header_parser.get();
    record.method = std::string(request.method_string());
    // Our copy: the message's target is replaced with the upstream's before we are done.
    target_text_.assign(request.target());
    record.path = std::string_view(target_text_).substr(0, target_text_.find('?'));

    const ClientInfo client = client_info();
    worker_.request_ids.identify(HeadView(request, client, listener().config.trusted), identity_);
    record.ids = identity_.ids();
    std::optional<std::uint64_t> content_length;
    if (auto length = header_parser.content_length()) content_length = *length;
    RequestHead asked{request,        target_text_, request.keep_alive(), !header_parser.is_done(),
                      content_length, &identity_};
    Admission admitted = admit(asked, client, listener(), *runtime_);
    for (;;) {
      if (admitted.action == Admission::kWaitForKeys && asked.may_refetch_keys) {
        co_await wait_for(admitted.keys_wait->when_fetched, admitted.keys_wait->limit);
        asked.may_refetch_keys = false;  // decided once more: a kid still unknown is refused
      } else if (admitted.action == Admission::kWaitForStore && asked.store_waits_left > 0) {
        co_await wait_for_store(admitted.store_wait);
        --asked.store_waits_left;  // the answer is known here now; a bounded number of times
      } else {
        break;
      }
      admitted = admit(asked, client, listener(), *runtime_);
    }
    // A new session in a shared store: no answer (and no cookie) before every node can see it.
    if (admitted.store_commit) {
      co_await wait_for_store(admitted.store_commit);
      if (!admitted.store_commit->ok()) {
        record.vp = admitted.vp;
        co_return co_await refuse(record, Reason::kSessionStoreUnavailable, false);
      }
    }
    record.vp = admitted.vp;
    count_gate_decision(admitted.vp, admitted.gate_decision);
    if (admitted.decision.allowed) record.user = admitted.decision.user.qualified();
    switch (admitted.action) {
      case Admission::kAnswer:
        co_return co_await write_answer(record, std::move(admitted.answer), admitted.keep_alive,
                                        admitted.cors_origin);
      case Admission::kReadForm: co_return co_await serve_form(record, admitted, header_parser);
      case Admission::kForward: break;
      case Admission::kWaitForKeys: co_return false;  // never twice (may_refetch_keys false)
      case Admission::kWaitForStore:
        co_return co_await refuse(record, Reason::kSessionStoreUnavailable, false);
    }

    const VirtualProxyRuntime& vp = *admitted.vp;
    UpstreamExchange<Stream> exchange(client_, runtime_->upstreams_of(worker_.index), vp, admitted,
                                      limits, worker_.server.stopping);
    ExchangeResult result = co_await exchange.run(header_parser);
    record.status = result.status;
    record.bytes = result.bytes;
    if (result.upstream != nullptr && result.upstream->metrics) {
      if (auto outcome = upstream_outcome(result.outcome)) {
        result.upstream->metrics->count(worker_.index, *outcome);
      }
    }
    switch (result.outcome) {
      case ExchangeOutcome::kDone: co_return result.keep_alive;
      case ExchangeOutcome::kUpgraded: {
        log(record);
        record.status = 0;  // logged already; the tunnel follows
        co_await tunnel(self, std::move(result.upgraded), vp, admitted.decision.session_handle);
        co_return false;
      }
      case ExchangeOutcome::kClientFailed: co_return false;
      case ExchangeOutcome::kClientMalformed:
        co_return co_await refuse(record, Reason::kBodyMalformed, false);
      case ExchangeOutcome::kClientTimeout:
        co_return co_await refuse(record, Reason::kBodyTimeout, false);
      case ExchangeOutcome::kUnforwardable:
        co_return co_await refuse(record, Reason::kIdentityUnforwardable, result.keep_alive);
      case ExchangeOutcome::kNoUpstream:
      case ExchangeOutcome::kUpstreamFailed:
      case ExchangeOutcome::kUpstreamTimeout:
        // Part of the answer went out: the connection cannot be reused.
        if (result.status != 0) co_return false;
        co_return co_await refuse(record,
                                  result.outcome == ExchangeOutcome::kUpstreamTimeout
                                      ? Reason::kUpstreamTimeout
                                      : Reason::kUpstreamUnavailable,
                                  result.keep_alive);
    }
    co_return false;
  }

  // Something another thread finishes (an identity provider's keys fetched again, a shared
  // store's answer): the coroutine waits for it, or at most `limit`, without holding the worker's
  // thread. The other thread only posts a cancel of the timer onto this connection's executor,
  // and only while the wait is still there to be woken.
  asio::awaitable<void> wait_for(const std::function<void(std::function<void()>)>& when_done,
                                 std::chrono::milliseconds limit) {
    struct Waiting {
      explicit Waiting(asio::any_io_executor executor) : timer(std::move(executor)) {}
      asio::steady_timer timer;
      bool done = false;
    };
    auto waiting = std::make_shared<Waiting>(client_.stream().get_executor());
    waiting->timer.expires_after(limit);
    when_done([weak = std::weak_ptr<Waiting>(waiting), executor = waiting->timer.get_executor()] {
      if (weak.expired()) return;
      asio::post(executor, [weak] {
        if (auto still = weak.lock()) {
          still->done = true;
          still->timer.cancel();
        }
      });
    });
    if (!waiting->done) co_await waiting->timer.async_wait(kNoThrow);
  }

  // A shared store's round trip fails by itself within its command timeout; the limit here only
  // guards against a reply that never comes.
  asio::awaitable<void> wait_for_store(std::shared_ptr<Pending> pending) {
    // A named function, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
    const std::function<void(std::function<void()>)> when_finished =
        [pending](std::function<void()> done) { pending->when_finished(std::move(done)); };
    co_await wait_for(when_finished, kStoreWaitLimit);
  }
  static constexpr std::chrono::milliseconds kStoreWaitLimit{3000};

  // POST .auth/session with a form: read whole (small and sized, see admission), then answered.
  asio::awaitable<bool> serve_form(Record& record, const Admission& admitted,
                                   http::request_parser<http::empty_body>& header_parser) {
    const bool client_keep_alive = header_parser.get().keep_alive();
    http::request_parser<http::string_body> form_parser(std::move(header_parser));
    form_parser.body_limit(kMaxFormBytes);
    client_.tcp().expires_after(runtime_->limits.header_timeout);
    auto [ec, n] =
        co_await http::async_read(client_.stream(), client_.buffer(), form_parser, kNoThrow);
    if (ec) co_return false;
    const auto& form = form_parser.get();
    std::optional<auth::DecisionStats> decided;
    Answer reply = answer_form(admitted, form, form.body(), client_info(), listener(), &decided);
    if (decided && decided->store_commit) {
      co_await wait_for_store(decided->store_commit);
      if (!decided->store_commit->ok()) {
        reply = answer_for(make_error(Reason::kSessionStoreUnavailable));
      }
    }
    count_gate_decision(admitted.vp, decided);
    co_return co_await write_answer(record, std::move(reply), client_keep_alive,
                                    admitted.cors_origin);
  }

  asio::awaitable<void> tunnel(std::shared_ptr<HttpConnection> self,
                               std::unique_ptr<UpstreamConnection> upstream,
                               const VirtualProxyRuntime& vp, std::uint64_t session_handle) {
    client_.release_relay();
    // Opened and closed are counted on the connection's worker (they sum per worker); closed
    // however the tunnel ends.
    struct OpenWebSocket {
      metrics::VirtualProxyMetrics* counters;
      std::size_t worker;
      ~OpenWebSocket() {
        if (counters != nullptr) counters->count_websocket_closed(worker);
      }
    } open{vp.metrics.get(), worker_.index};
    if (open.counters != nullptr) open.counters->count_websocket_opened(worker_.index);
    const std::chrono::seconds inactivity(vp.config.session.inactivity_timeout_seconds);
    if (std::holds_alternative<UpstreamConnection::Plain>(upstream->stream)) {
      co_await run_tunnel<UpstreamConnection::Plain>(self, std::move(upstream), vp, session_handle,
                                                     inactivity);
    } else {
      co_await run_tunnel<UpstreamConnection::Tls>(self, std::move(upstream), vp, session_handle,
                                                   inactivity);
    }
  }

  template <class Up>
  asio::awaitable<void> run_tunnel(std::shared_ptr<HttpConnection> self,
                                   std::unique_ptr<UpstreamConnection> upstream,
                                   const VirtualProxyRuntime& vp, std::uint64_t session_handle,
                                   std::chrono::seconds inactivity) {
    auto tunnel = std::make_shared<WebSocketTunnel<Stream, Up>>(
        client_.stream(), client_.buffer(), std::move(upstream), worker_.buffers, vp.gate,
        session_handle, inactivity, self);
    co_await tunnel->run();
  }

  // How reading a request head ended (see read_head).
  struct HeadRead {
    boost::system::error_code ec;
    bool obs_fold = false;         // a field line continued on the next: refused
    bool start_line_done = false;  // false with header_limit: the request line is too long
  };

  // Reads the request head into `parser` as http::async_read_header does, but with the raw
  // bytes in sight: Beast unfolds obs-fold silently, and RFC 9112 section 5.2 lets a server
  // refuse it instead, which leaves no doubt about what an upstream would see. Beast consumes
  // the start line and each complete field as they come, so each piece is looked at once.
  asio::awaitable<HeadRead> read_head(http::request_parser<http::empty_body>& parser) {
    HeadRead result;
    auto& buffer = client_.buffer();
    bool after_lf = false;  // the last byte consumed ended a line
    for (;;) {
      if (buffer.size() > 0) {
        const std::size_t used = parser.put(buffer.data(), result.ec);
        const std::string_view piece(static_cast<const char*>(buffer.data().data()), used);
        if (!piece.empty()) {
          result.start_line_done = true;
          if (has_obs_fold(piece) ||
              (after_lf && (piece.front() == ' ' || piece.front() == '\t'))) {
            result.obs_fold = true;
          }
          after_lf = piece.back() == '\n';
        }
        buffer.consume(used);
        if (result.ec != http::error::need_more) co_return result;
      }
      auto [ec, n] = co_await client_.stream().async_read_some(
          buffer.prepare(ClientSide<Stream>::kReadSize), kNoThrow);
      if (ec) {
        result.ec = ec;
        co_return result;
      }
      buffer.commit(n);
    }
  }

  Worker& worker_;
  const std::uint64_t listener_id_;
  // The snapshot of the request in progress (between requests: of the last one), and this
  // connection's listener in it.
  std::shared_ptr<const Runtime> runtime_;
  const ListenerRuntime* listener_;
  ConnectionSlot slot_;  // counts this connection against limits.max_connections
  ClientSide<Stream> client_;
  bool idle_ = false;
  std::chrono::steady_clock::time_point idle_deadline_{};
  std::string target_text_;   // the client's request target, reused by every request
  RequestIdentity identity_;  // of the request in progress, reused by every request
};

}  // namespace jotgate::proxy
