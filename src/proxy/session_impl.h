// Internal to the proxy: one client connection, plain or TLS (Stream is beast::tcp_stream or
// ssl::stream<beast::tcp_stream>). Its life reads top to bottom in run(): handshake, then per
// request: read header (limits, timeouts) -> route -> gate -> forward or answer. Bodies are
// relayed through a fixed buffer; an accepted WebSocket upgrade becomes a byte tunnel.
// Included only by session_plain.cpp and session_tls.cpp (one instantiation each).
//   auto session = std::make_shared<HttpSession<beast::tcp_stream>>(worker, listener, std::move(s));
//   asio::co_spawn(worker.ioc, session->run(session), asio::detached);
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "proxy/auth_endpoints.h"
#include "proxy/body_deadline.h"
#include "proxy/body_framing.h"
#include "proxy/context.h"
#include "proxy/request_framing.h"

namespace jotgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The gate's view of a Beast request header.
class BeastRequestView final : public auth::RequestView {
 public:
  BeastRequestView(const http::request_header<>& request, bool tls, bool trusted,
                   std::string_view client_ip)
      : request_(request), tls_(tls), trusted_(trusted), client_ip_(client_ip) {}
  std::string_view method() const override { return request_.method_string(); }
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = request_.find(name);
    if (it == request_.end()) return std::nullopt;
    return it->value();
  }
  std::vector<std::string_view> headers(std::string_view name) const override {
    std::vector<std::string_view> values;
    auto range = request_.equal_range(name);
    for (auto it = range.first; it != range.second; ++it) values.push_back(it->value());
    return values;
  }
  bool is_tls() const override { return tls_; }
  bool trusted_listener() const override { return trusted_; }
  std::string_view client_ip() const override { return client_ip_; }

 private:
  const http::request_header<>& request_;
  bool tls_;
  bool trusted_;
  std::string_view client_ip_;
};

template <class Stream>
class HttpSession final : public SessionBase,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  // A tunnel's TLS side reads into one of these; small, so that 10k open WebSockets stay
  // affordable (larger messages take several reads).
  using TunnelBuffer = std::array<char, 4 * 1024>;

  HttpSession(Worker& worker, const ListenerRuntime& listener, Stream stream, ConnectionSlot slot)
      : worker_(worker),
        ctx_(worker.ctx),
        listener_(listener),
        slot_(std::move(slot)),
        stream_(std::move(stream)) {
    boost::system::error_code ec;
    auto endpoint = tcp_stream().socket().remote_endpoint(ec);
    if (!ec) peer_ip_ = endpoint.address().to_string();
    worker_.sessions.insert(this);
    ctx_.open_sessions.fetch_add(1);
  }
  ~HttpSession() override {
    worker_.sessions.erase(this);
    ctx_.open_sessions.fetch_sub(1);
  }

  void close_if_idle() override {
    if (idle_) close();
  }

  void sweep(std::chrono::steady_clock::time_point now) override {
    if (idle_ && now >= idle_deadline_) close();
  }

  asio::awaitable<void> run(std::shared_ptr<HttpSession> self) {
    // The data path reports errors as values; this only guards against the unexpected
    // (allocation failure) ending the process.
    try {
      co_await serve(self);
    } catch (const std::exception& e) {
      spdlog::error("connection from {} ended: {}", peer_ip_, e.what());
    }
  }

 private:
  asio::awaitable<void> serve(std::shared_ptr<HttpSession> self) {
    if constexpr (kTls) {
      tcp_stream().expires_after(ctx_.handshake_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
      if (ec) co_return;
    }
    bool first = true;
    while (!ctx_.stopping.load(std::memory_order_relaxed)) {
      if (buffer_.size() == 0) {
        // Waiting for the next request: idle timeout; the first one gets the header timeout.
        // The worker's sweep closes the connection at the deadline (no timer per wait).
        idle_ = true;
        tcp_stream().expires_never();
        idle_deadline_ = std::chrono::steady_clock::now() +
                         (first ? ctx_.header_timeout : ctx_.idle_timeout);
        // A small read buffer while waiting: 10k idle keep-alive connections cost 10k times
        // this. (A wait for readability without any buffer costs an epoll_ctl per request.)
        // Larger headers make the buffer grow while they are read; it shrinks back here.
        if (buffer_.capacity() > kIdleReadSize) buffer_.shrink_to_fit();
        auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kIdleReadSize), kNoThrow);
        idle_ = false;
        if (ec) co_return;  // closed, idle timeout or shutdown: nothing to answer
        buffer_.commit(n);
      }
      first = false;
      bool keep_alive = co_await serve_request(self);
      if (!keep_alive) break;
    }
    co_await graceful_close();
  }

  enum class Outcome {
    kDone,
    kUpstreamFailed,
    kUpstreamTimeout,
    kClientFailed,     // the client's connection closed or broke: nothing to answer
    kClientMalformed,  // the client's body framing is broken: 400, then close
    kClientTimeout,    // the client's body came too slowly: 408, then close
    kNoResponse,
  };

  // Per-request state that ends up in the access log.
  struct Exchange {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::string method;
    std::string path;
    int status = 0;
    std::uint64_t bytes = 0;
    const VirtualProxyRuntime* vp = nullptr;
    std::string user;
  };

  beast::tcp_stream& tcp_stream() { return beast::get_lowest_layer(stream_); }

  BeastRequestView view_of(const http::request_header<>& request) const {
    return BeastRequestView(request, kTls, listener_.config->trusted, peer_ip_);
  }

  // Origin "scheme://host[:port]" names this very listener and Host.
  bool same_origin(std::string_view origin, const http::request_header<>& request) const {
    const std::string own = own_origin(view_of(request));
    return !own.empty() && beast::iequals(origin, own);
  }

  void close() {
    boost::system::error_code ec;
    tcp_stream().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    tcp_stream().socket().close(ec);
  }

  asio::awaitable<void> graceful_close() {
    if constexpr (kTls) {
      tcp_stream().expires_after(std::chrono::seconds(2));
      co_await stream_.async_shutdown(kNoThrow);
    }
    boost::system::error_code ec;
    tcp_stream().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    close();
  }

  void log(const Exchange& exchange) {
    if (!ctx_.access_log) return;
    auto elapsed = std::chrono::steady_clock::now() - exchange.start;
    AccessRecord record;
    record.client_ip = peer_ip_;
    record.method = exchange.method;
    record.path = exchange.path;
    record.status = exchange.status;
    record.bytes = exchange.bytes;
    record.duration_ms = std::chrono::duration<double, std::milli>(elapsed).count();
    if (exchange.vp != nullptr) record.virtual_proxy = exchange.vp->config->name;
    record.user = exchange.user;
    ctx_.access_log->write(record);
  }

  // A short answer from the gateway itself (errors, refusals).
  asio::awaitable<bool> answer(Exchange& exchange, int status, std::string body, bool keep_alive,
                               const auth::HeaderList* headers = nullptr) {
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    bool has_type = false;
    if (headers != nullptr) {
      for (const auto& [name, value] : *headers) {
        if (beast::iequals(name, "content-type")) has_type = true;
        response.insert(name, value);
      }
    }
    const bool bodiless = status == 204 || status == 304;
    if (!has_type && !bodiless) {
      response.set(http::field::content_type, "text/plain; charset=utf-8");
    }
    if (exchange.vp != nullptr) exchange.vp->policy.add_response_headers(response);
    // An allowed page can read the gateway's answers too (a 401 tells it to sign in again).
    if (exchange.vp != nullptr && !cors_origin_.empty()) {
      exchange.vp->cors.add_headers(response, cors_origin_);
    }
    if (!body.empty() && body.back() != '\n' && !has_type) body.push_back('\n');
    response.body() = std::move(body);
    keep_alive = keep_alive && !ctx_.stopping.load(std::memory_order_relaxed);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    exchange.status = status;
    tcp_stream().expires_after(ctx_.idle_timeout);
    if (exchange.method == "HEAD") {
      // The header as for GET (Content-Length included), no body: the client reads none.
      http::response_serializer<http::string_body> serializer(response);
      auto [ec, n] = co_await http::async_write_header(stream_, serializer, kNoThrow);
      co_return keep_alive && !ec;
    }
    exchange.bytes = response.body().size();
    auto [ec, n] = co_await http::async_write(stream_, response, kNoThrow);
    co_return keep_alive && !ec;
  }

  asio::awaitable<bool> serve_request(std::shared_ptr<HttpSession> self) {
    Exchange exchange;
    bool keep_alive = co_await handle(self, exchange);
    relay_.release();  // back to the worker until the next transfer
    if (exchange.status != 0) log(exchange);
    co_return keep_alive;
  }

  // The relay buffer of the current request, taken from the worker on first use.
  char* relay_data() {
    if (!relay_) relay_ = worker_.buffers.take();
    return relay_.data();
  }
  static constexpr std::size_t kRelaySize = RelayBuffers::kSize;
  static constexpr std::size_t kIdleReadSize = 2048;
  static constexpr std::size_t kHeadReadSize = 4096;

  asio::awaitable<bool> handle(std::shared_ptr<HttpSession> self, Exchange& exchange) {
    const config::Limits& limits = ctx_.config->limits;
    cors_origin_.clear();
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // Bodies are streamed, never held: no size limit (Beast checks Content-Length against it
    // while parsing the header).
    header_parser.body_limit(boost::none);
    tcp_stream().expires_after(ctx_.header_timeout);
    const HeadRead head = co_await read_head(header_parser);
    const auto read_ec = head.ec;
    if (read_ec == http::error::header_limit && !head.start_line_done) {
      co_return co_await answer(exchange, 414,
                                "URI Too Long: the request line is longer than the gateway "
                                "accepts",
                                false);
    }
    if (read_ec == http::error::header_limit) {
      co_return co_await answer(exchange, 431,
                                "Request Header Fields Too Large: the request header is larger "
                                "than the gateway accepts",
                                false);
    }
    if (read_ec == beast::error::timeout || read_ec == http::error::end_of_stream ||
        read_ec == asio::error::eof || read_ec == asio::error::operation_aborted ||
        read_ec == asio::error::connection_reset) {
      co_return false;
    }
    if (read_ec) {
      co_return co_await answer(exchange, 400, "Bad Request: malformed HTTP request", false);
    }
    if (head.obs_fold) {
      co_return co_await answer(exchange, 400,
                                "Bad Request: obsolete line folding (obs-fold) is not accepted",
                                false);
    }

    auto& request = header_parser.get();
    exchange.method = std::string(request.method_string());
    // Our copy: the message's target is replaced with the upstream's before we are done.
    target_text_.assign(request.target());
    std::string_view raw_target = target_text_;
    exchange.path = std::string(raw_target.substr(0, raw_target.find('?')));
    // An answer before the body was read must close the connection: the body is unread.
    const bool body_pending = !header_parser.is_done();
    const bool client_keep_alive = request.keep_alive();
    const bool can_keep = client_keep_alive && !body_pending;

    if (raw_target.size() + request.method_string().size() + 10 > limits.max_request_line) {
      co_return co_await answer(exchange, 414,
                                "URI Too Long: the request line is longer than the gateway "
                                "accepts",
                                false);
    }
    std::size_t count = 0;
    for (auto it = request.begin(); it != request.end(); ++it) ++count;
    if (count > limits.max_header_count) {
      co_return co_await answer(exchange, 431,
                                "Request Header Fields Too Large: too many header fields", false);
    }

    // Framing an upstream could read otherwise (body length, host): answered, then closed.
    if (auto problem = check_request_head(request)) {
      co_return co_await answer(exchange, problem->status, std::string(problem->message), false);
    }

    auto target = parse_request_target(raw_target);
    if (!target) {
      co_return co_await answer(exchange, 400, "Bad Request: " + target.error().detail, can_keep);
    }
    auto match = listener_.routes.match(target->path);
    if (!match) {
      co_return co_await answer(exchange, 404, "Not Found: no virtual proxy serves this path",
                                can_keep);
    }
    const VirtualProxyRuntime& vp = ctx_.virtual_proxies[match->virtual_proxy_index];
    exchange.vp = &vp;

    const bool websocket = is_websocket_upgrade(request);
    if (!vp.host_allow_list.empty()) {
      auto host = request.find(http::field::host);
      if (host == request.end() || host->value().empty()) {
        co_return co_await answer(exchange, 400, "Bad Request: the Host header is missing",
                                  can_keep);
      }
      if (!host_allowed(vp.host_allow_list, host->value())) {
        co_return co_await answer(exchange, 403,
                                  "Forbidden: this host name is not allowed for this virtual "
                                  "proxy",
                                  can_keep);
      }
      auto origin = request.find(http::field::origin);
      if (websocket && origin != request.end() &&
          !host_allowed(vp.host_allow_list, origin_authority(origin->value()))) {
        co_return co_await answer(exchange, 403,
                                  "Forbidden: the WebSocket Origin is not allowed for this "
                                  "virtual proxy",
                                  can_keep);
      }
    }

    // CORS: an allowed origin gets its headers on every answer; preflights end here.
    std::optional<std::string_view> origin;
    if (auto it = request.find(http::field::origin); it != request.end()) origin = it->value();
    if (auto allowed = vp.cors.allowed(origin)) cors_origin_.assign(*allowed);
    if (vp.cors.enabled() && request.method() == http::verb::options) {
      auto method = request.find(http::field::access_control_request_method);
      if (method != request.end()) {
        auto headers = request.find(http::field::access_control_request_headers);
        auto reply = vp.cors.preflight(origin, method->value(),
                                       headers == request.end() ? "" : headers->value());
        cors_origin_.clear();  // the preflight answer carries its own
        co_return co_await answer(exchange, reply.status, std::move(reply.body), can_keep,
                                  &reply.headers);
      }
    }

    // The gateway's own endpoints (.auth/session, me, logout): answered here, never forwarded.
    if (auto name = auth_endpoint_of(match->rest, vp.config->auth.endpoint)) {
      // Signing in or out from a page of another site: only the allowed origins (no login or
      // logout forced on a user by a foreign page).
      if (request.method() == http::verb::post && origin && cors_origin_.empty() &&
          !same_origin(*origin, request)) {
        co_return co_await answer(exchange, 403,
                                  "Forbidden: pages of this origin may not use the gateway's "
                                  "endpoints (cors.allowed_origins)",
                                  can_keep);
      }
      if (!body_pending) {
        EndpointReply reply = serve_auth_endpoint(*vp.gate, view_of(request),
                                                  *name, target->query, {}, *vp.config);
        co_return co_await answer(exchange, reply.status, std::move(reply.body), can_keep,
                                  &reply.headers);
      }
      // A form (POST .auth/session): small and sized, read whole; anything else is refused.
      const auto length = header_parser.content_length();
      if (!length || *length > kMaxFormBytes) {
        co_return co_await answer(exchange, 413,
                                  "Content Too Large: the gateway's endpoints take a form of at "
                                  "most 32 KiB with a Content-Length",
                                  false);
      }
      const std::string query(target->query);
      http::request_parser<http::string_body> form_parser(std::move(header_parser));
      form_parser.body_limit(kMaxFormBytes);
      tcp_stream().expires_after(ctx_.header_timeout);
      auto [form_ec, form_n] = co_await http::async_read(stream_, buffer_, form_parser, kNoThrow);
      if (form_ec) co_return false;
      const auto& form_request = form_parser.get();
      EndpointReply reply = serve_auth_endpoint(*vp.gate, view_of(form_request),
                                                *name, query, form_request.body(), *vp.config);
      co_return co_await answer(exchange, reply.status, std::move(reply.body), client_keep_alive,
                                &reply.headers);
    }

    // ?jotgateTicket=: traded for a session, then the same URL without it.
    if (auto reply = redeem_ticket(*vp.gate, view_of(request), target->path, target->query)) {
      co_return co_await answer(exchange, reply->status, std::move(reply->body), can_keep,
                                &reply->headers);
    }

    auth::Decision decision = vp.gate->check(view_of(request));
    if (!decision.allowed) {
      // A browser without a session goes to the sign-in page, if there is one.
      if (auto location = sign_in_redirect(*vp.config, view_of(request), decision.reason,
                                           raw_target)) {
        const auth::HeaderList headers{{"Location", std::move(*location)},
                                       {"Cache-Control", "no-store"}};
        co_return co_await answer(exchange, 302, "", can_keep, &headers);
      }
      co_return co_await answer(exchange, decision.status, std::move(decision.body), can_keep,
                                &decision.response_headers);
    }
    exchange.user = decision.user.qualified();
    if (vp.upstreams.empty()) {
      co_return co_await answer(exchange, 502, "Bad Gateway: no upstream server answered",
                                can_keep);
    }

    // Framing as the client sent it, before headers are rewritten.
    const bool chunked = request.chunked();
    const auto content_length = header_parser.content_length();
    const bool expect_continue = [&] {
      auto expect = request.find(http::field::expect);
      return expect != request.end() && beast::iequals(expect->value(), "100-continue");
    }();
    const bool is_head = request.method() == http::verb::head;
    client_version_ = request.version();

    // `request` belongs to header_parser: not used after this move.
    http::request_parser<http::buffer_body> parser(std::move(header_parser));
    parser.body_limit(boost::none);
    auto& upstream_request = parser.get();
    upstream_request.version(11);
    const bool bodiless = parser.is_done();

    bool continue_sent = false;
    for (int attempt = 0;; ++attempt) {
      auto acquired = co_await worker_.pool.acquire(vp.upstreams, worker_.round_robin[vp.index],
                                                    vp.connect_timeout, attempt > 0);
      if (!acquired) {
        spdlog::warn("virtual proxy '{}': {}", vp.config->name, acquired.error().message());
        co_return co_await answer(exchange, 502, "Bad Gateway: no upstream server answered",
                                  can_keep);
      }
      std::unique_ptr<UpstreamConnection> connection = std::move(*acquired);
      // Upstream ids of one virtual proxy are consecutive (see Server).
      const UpstreamRuntime& upstream = vp.upstreams[connection->id - vp.upstreams.front().id];
      upstream_request.target(
          build_upstream_target(*upstream.config, vp.config->strip_prefix, *match, *target));
      ForwardedInfo forwarded{peer_ip_, kTls, match->prefix, upstream.host_header};
      if (attempt == 0) {
        if (!vp.policy.rewrite_request(upstream_request, decision, forwarded, websocket)) {
          co_return co_await answer(exchange, 400,
                                    "Bad Request: the identity holds characters not allowed in "
                                    "a header",
                                    client_keep_alive && bodiless);
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
        tcp_stream().expires_after(ctx_.idle_timeout);
        auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue), kNoThrow);
        if (ec) co_return false;
        continue_sent = true;
      }

      Outcome sent = co_await std::visit(
          [&](auto& up) { return send_request(up, parser, chunked, vp.read_timeout); },
          connection->stream);
      if (sent == Outcome::kClientFailed) co_return false;
      if (sent == Outcome::kClientMalformed) {
        co_return co_await answer(exchange, 400,
                                  "Bad Request: the request body's chunked framing is malformed",
                                  false);
      }
      if (sent == Outcome::kClientTimeout) {
        co_return co_await answer(exchange, 408,
                                  "Request Timeout: the request body came too slowly "
                                  "(limits.body_timeout, limits.body_min_rate)",
                                  false);
      }
      const bool retry = connection->reused && bodiless && attempt == 0;
      if (sent == Outcome::kUpstreamFailed && retry) continue;
      if (sent != Outcome::kDone) {
        co_return co_await upstream_error(exchange, sent, client_keep_alive && parser.is_done());
      }

      Outcome answered = co_await std::visit(
          [&](auto& up) {
            return relay_response(self, up, connection, exchange, decision, vp, is_head,
                                  websocket, client_keep_alive);
          },
          connection->stream);
      if (answered == Outcome::kNoResponse && retry) continue;
      if (answered == Outcome::kDone) co_return keep_alive_after_;
      if (answered == Outcome::kClientFailed || exchange.status != 0) {
        co_return false;  // part of the answer went out: the connection cannot be reused
      }
      co_return co_await upstream_error(exchange, answered, client_keep_alive);
    }
  }

  // How reading a request head ended (see read_head).
  struct HeadRead {
    boost::system::error_code ec;
    bool obs_fold = false;          // a field line continued on the next: refused
    bool start_line_done = false;   // false with header_limit: the request line is too long
  };

  // Reads the request head into `parser` as http::async_read_header does, but with the raw
  // bytes in sight: Beast unfolds obs-fold silently, and RFC 9112 section 5.2 lets a server
  // refuse it instead, which leaves no doubt about what an upstream would see. Beast consumes
  // the start line and each complete field as they come, so each piece is looked at once.
  asio::awaitable<HeadRead> read_head(http::request_parser<http::empty_body>& parser) {
    HeadRead result;
    bool after_lf = false;  // the last byte consumed ended a line
    for (;;) {
      if (buffer_.size() > 0) {
        const std::size_t used = parser.put(buffer_.data(), result.ec);
        const std::string_view piece(static_cast<const char*>(buffer_.data().data()), used);
        if (!piece.empty()) {
          result.start_line_done = true;
          if (has_obs_fold(piece) || (after_lf && (piece.front() == ' ' || piece.front() == '\t'))) {
            result.obs_fold = true;
          }
          after_lf = piece.back() == '\n';
        }
        buffer_.consume(used);
        if (result.ec != http::error::need_more) co_return result;
      }
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kHeadReadSize), kNoThrow);
      if (ec) {
        result.ec = ec;
        co_return result;
      }
      buffer_.commit(n);
    }
  }

  asio::awaitable<bool> upstream_error(Exchange& exchange, Outcome outcome, bool keep_alive) {
    if (outcome == Outcome::kUpstreamTimeout) {
      co_return co_await answer(exchange, 504,
                                "Gateway Timeout: the upstream server did not answer in time",
                                keep_alive);
    }
    co_return co_await answer(exchange, 502, "Bad Gateway: no upstream server answered",
                              keep_alive);
  }

  // Client request -> upstream through the fixed buffer, the body framed anew (BodyFramer):
  // the header leaves with the first body bytes. A body that stops coming, or comes slower
  // than limits.body_min_rate, is cut (kClientTimeout).
  template <class Up>
  asio::awaitable<Outcome> send_request(Up& up, http::request_parser<http::buffer_body>& parser,
                                        bool chunked, std::chrono::milliseconds read_timeout) {
    write_head(parser.get(), head_);
    std::string_view head = head_;
    BodyFramer framer(chunked);
    BodyDeadline deadline(ctx_.body_timeout, ctx_.body_min_rate);
    auto& body = parser.get().body();
    for (;;) {
      std::size_t n = 0;
      if (!parser.is_done()) {
        body.data = relay_data();
        body.size = kRelaySize;
        auto ec = co_await read_body_some(parser, deadline.next());
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return client_read_failure(ec);
        n = kRelaySize - body.size;
        deadline.received(n);
        if (n == 0 && !parser.is_done()) continue;  // only a chunk header was parsed
      }
      const bool last = parser.is_done();
      beast::get_lowest_layer(up).expires_after(read_timeout);
      auto [ec, written] = co_await asio::async_write(
          up, framer.frame(head, n == 0 ? nullptr : relay_.data(), n, last), kNoThrow);
      if (ec == beast::error::timeout) co_return Outcome::kUpstreamTimeout;
      if (ec) co_return Outcome::kUpstreamFailed;
      head = {};
      if (last) co_return Outcome::kDone;
    }
  }

  // Reads more of the client's body into `parser` by `deadline`: the loop of
  // http::async_read_some, with two checks of its own. A line that Beast waits on to end (a
  // chunk size, trailers) is malformed at once when it holds a bare LF or outgrows
  // max_header_bytes, instead of waiting for a CRLF that never comes. The deadline cancels the
  // read without closing the socket (the stream's own timeout would), so a 408 can be written.
  asio::awaitable<boost::system::error_code> read_body_some(
      http::request_parser<http::buffer_body>& parser, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      if (buffer_.size() > 0) {
        boost::system::error_code ec;
        const std::size_t used = parser.put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec != http::error::need_more && (ec || used > 0 || parser.is_done())) co_return ec;
        const std::string_view pending(static_cast<const char*>(buffer_.data().data()),
                                       buffer_.size());
        if (has_bare_lf(pending) || pending.size() > ctx_.config->limits.max_header_bytes) {
          co_return http::error::bad_chunk;
        }
      }
      tcp_stream().expires_never();
      if (!body_timer_) body_timer_.emplace(tcp_stream().get_executor());
      const std::uint64_t read = ++body_reads_;
      body_timer_->expires_at(deadline);
      body_timer_->async_wait(
          [weak = this->weak_from_this(), read](const boost::system::error_code& ec) {
            auto self = weak.lock();
            // Cancelled, or fired after its read had finished: nothing to do.
            if (ec || !self || self->body_reads_ != read) return;
            self->body_timed_out_ = true;
            boost::system::error_code ignored;
            self->tcp_stream().socket().cancel(ignored);
          });
      body_timed_out_ = false;
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kHeadReadSize), kNoThrow);
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

  // Why reading the client's body failed: a framing error (a bad chunk size, a bare LF) is
  // answered 400, a client too slow 408; a connection that closed or broke is not answered.
  static Outcome client_read_failure(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return Outcome::kClientTimeout;
    const bool parse_error = ec.category() == http::make_error_code(http::error::bad_chunk).category();
    if (parse_error && ec != http::error::partial_message && ec != http::error::end_of_stream) {
      return Outcome::kClientMalformed;
    }
    return Outcome::kClientFailed;
  }

  // Upstream response -> client. Sets keep_alive_after_ when kDone. exchange.status is set
  // once the header went to the client.
  template <class Up>
  asio::awaitable<Outcome> relay_response(std::shared_ptr<HttpSession> self, Up& up,
                                          std::unique_ptr<UpstreamConnection>& connection,
                                          Exchange& exchange, const auth::Decision& decision,
                                          const VirtualProxyRuntime& vp, bool is_head,
                                          bool websocket, bool client_keep_alive) {
    std::optional<http::response_parser<http::buffer_body>> parser;
    bool got_bytes = false;
    for (;;) {
      parser.emplace();
      parser->body_limit(boost::none);
      parser->header_limit(64 * 1024);
      if (is_head) parser->skip(true);
      beast::get_lowest_layer(up).expires_after(vp.read_timeout);
      auto [ec, n] = co_await http::async_read_header(up, connection->buffer, *parser, kNoThrow);
      if (ec == beast::error::timeout) co_return Outcome::kUpstreamTimeout;
      if (ec) co_return got_bytes ? Outcome::kUpstreamFailed : Outcome::kNoResponse;
      got_bytes = true;
      int status = parser->get().result_int();
      // Interim answers (100 Continue, 103) are not relayed; the final one follows.
      if (status >= 100 && status < 200 && status != 101) continue;
      break;
    }
    auto& response = parser->get();
    const bool upgrade = response.result() == http::status::switching_protocols;
    if (upgrade && !websocket) co_return Outcome::kUpstreamFailed;
    const bool upstream_keep_alive = response.keep_alive();
    const bool chunked = response.chunked();
    const auto content_length = parser->content_length();
    const bool until_close = !upgrade && !parser->is_done() && !chunked && !content_length;

    vp.policy.rewrite_response(response, decision, upgrade);
    if (!upgrade && !cors_origin_.empty()) vp.cors.add_headers(response, cors_origin_);
    bool keep_alive = client_keep_alive && !ctx_.stopping.load(std::memory_order_relaxed);
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

    write_head(response, head_);
    exchange.status = response.result_int();
    if (upgrade) {
      tcp_stream().expires_after(ctx_.idle_timeout);
      auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(head_), kNoThrow);
      if (ec) co_return Outcome::kClientFailed;
      log(exchange);
      exchange.status = 0;  // logged already; the tunnel follows
      inactivity_ms_ = vp.config->session.inactivity_timeout_seconds * 1000;
      co_await tunnel<Up>(self, std::move(connection), vp.gate, decision.session_handle);
      keep_alive_after_ = false;
      co_return Outcome::kDone;
    }
    // Each read is written at once (server-sent events, long polls), chunked anew for HTTP/1.1
    // clients when the upstream chunked it or ends it by closing. Body bytes that came with the
    // header leave with it, in one write; otherwise the header goes out at once, so a stream
    // that starts later shows its status right away. Answers to HEAD, 204 and 304 have no body.
    const int status = response.result_int();
    BodyFramer framer(response.chunked() && !is_head && status != 204 && status != 304);
    std::string_view head = head_;
    for (;;) {
      std::size_t n = 0;
      if (!parser->is_done() && (head.empty() || connection->buffer.size() > 0)) {
        auto& body = response.body();
        body.data = relay_data();
        body.size = kRelaySize;
        beast::get_lowest_layer(up).expires_after(vp.read_timeout);
        auto [ec, read] = co_await http::async_read_some(up, connection->buffer, *parser, kNoThrow);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return Outcome::kClientFailed;  // cut mid-body: close the client too
        n = kRelaySize - body.size;
        if (n == 0 && !parser->is_done() && head.empty()) continue;  // a chunk header only
      }
      const bool last = parser->is_done();
      tcp_stream().expires_after(ctx_.idle_timeout);
      auto [ec, written] = co_await asio::async_write(
          stream_, framer.frame(head, n == 0 ? nullptr : relay_.data(), n, last), kNoThrow);
      if (ec) co_return Outcome::kClientFailed;
      head = {};
      exchange.bytes += n;
      if (last) break;
    }
    if (upstream_keep_alive && !until_close && parser->is_done()) {
      worker_.pool.release(std::move(connection));
    }
    keep_alive_after_ = keep_alive;
    co_return Outcome::kDone;
  }

  // After a 101: bytes both ways until either side closes. No frame parsing.
  template <class Up>
  asio::awaitable<void> tunnel(std::shared_ptr<HttpSession> self,
                               std::unique_ptr<UpstreamConnection> owned, auth::Gate* gate,
                               std::uint64_t session_handle) {
    std::shared_ptr<UpstreamConnection> connection = std::move(owned);
    tcp_stream().expires_never();
    connection->tcp().expires_never();
    tunnel_gate_ = gate;
    session_handle_ = session_handle;
    relay_.release();
    // Often enough that a short inactivity timeout cannot expire while traffic flows.
    touch_interval_ = std::min<std::chrono::milliseconds>(
        std::chrono::seconds(5), std::chrono::milliseconds(inactivity_ms_ / 4));
    asio::co_spawn(tcp_stream().get_executor(), pump_up<Up>(self, connection), asio::detached);
    co_await pump_down<Up>(self, connection);
  }

  void touch_session() {
    if (session_handle_ == 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_touch_ < touch_interval_) return;
    last_touch_ = now;
    if (tunnel_gate_ != nullptr) tunnel_gate_->touch(session_handle_);
  }

  void close_tunnel(UpstreamConnection& connection) {
    boost::system::error_code ec;
    connection.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    connection.tcp().socket().close(ec);
    close();
  }

  // Client -> upstream, starting with bytes the client sent right after its upgrade request.
  template <class Up>
  asio::awaitable<void> pump_up(std::shared_ptr<HttpSession> self,
                                std::shared_ptr<UpstreamConnection> connection) {
    (void)self;
    Up& up = std::get<Up>(connection->stream);
    bool open = true;
    if (buffer_.size() > 0) {
      auto [ec, n] = co_await asio::async_write(up, buffer_.data(), kNoThrow);
      open = !ec;
    }
    buffer_.consume(buffer_.size());
    buffer_.shrink_to_fit();
    if (open) co_await relay_bytes(stream_, up, tunnel_up_);
    close_tunnel(*connection);
  }

  // Upstream -> client, starting with bytes the upstream sent right after its 101.
  template <class Up>
  asio::awaitable<void> pump_down(std::shared_ptr<HttpSession> self,
                                  std::shared_ptr<UpstreamConnection> connection) {
    (void)self;
    Up& up = std::get<Up>(connection->stream);
    bool open = true;
    if (connection->buffer.size() > 0) {
      auto [ec, n] = co_await asio::async_write(stream_, connection->buffer.data(), kNoThrow);
      open = !ec;
    }
    connection->buffer.consume(connection->buffer.size());
    connection->buffer.shrink_to_fit();
    if (open) co_await relay_bytes(up, stream_, tunnel_down_);
    close_tunnel(*connection);
  }

  // Bytes from one side to the other until either fails. A plain TCP side is waited on without
  // a buffer, which is borrowed from the worker only to move what arrived: a quiet WebSocket
  // holds no buffer. A TLS side may hold decrypted bytes the socket does not show, so it reads
  // into its own small buffer.
  template <class From, class To>
  asio::awaitable<void> relay_bytes(From& from, To& to, std::unique_ptr<TunnelBuffer>& own) {
    for (;;) {
      RelayBuffers::Lease lease;
      asio::mutable_buffer space;
      if constexpr (std::is_same_v<From, beast::tcp_stream>) {
        auto [ec] = co_await from.socket().async_wait(asio::ip::tcp::socket::wait_read, kNoThrow);
        if (ec) co_return;
        lease = worker_.buffers.take();
        space = asio::buffer(lease.data(), lease.size());
      } else {
        if (!own) own = std::make_unique<TunnelBuffer>();
        space = asio::buffer(*own);
      }
      auto [ec, n] = co_await from.async_read_some(space, kNoThrow);
      if (ec) co_return;
      auto [write_ec, written] =
          co_await asio::async_write(to, asio::buffer(space.data(), n), kNoThrow);
      if (write_ec) co_return;
      touch_session();
    }
  }

  Worker& worker_;
  ProxyContext& ctx_;
  const ListenerRuntime& listener_;
  ConnectionSlot slot_;  // counts this connection against limits.max_connections
  Stream stream_;
  beast::flat_buffer buffer_;
  std::string peer_ip_;
  bool idle_ = false;
  std::chrono::steady_clock::time_point idle_deadline_{};
  bool keep_alive_after_ = false;
  std::string target_text_;  // the client's request target, reused by every request
  std::string head_;         // a header block being written, reused by every request
  std::string cors_origin_;  // the request's Origin when CORS allows it, else ""
  unsigned client_version_ = 11;
  // Body relay buffers, reused by every request: memory does not grow with body size.
  RelayBuffers::Lease relay_;  // held only while a request's body is relayed
  // Buffers of a tunnel's TLS sides (see relay_bytes).
  std::unique_ptr<TunnelBuffer> tunnel_up_;
  std::unique_ptr<TunnelBuffer> tunnel_down_;
  // The body read deadline (see read_body_some), made on the first body read.
  std::optional<asio::steady_timer> body_timer_;
  std::uint64_t body_reads_ = 0;
  bool body_timed_out_ = false;
  // WebSocket tunnel state.
  auth::Gate* tunnel_gate_ = nullptr;
  std::uint64_t session_handle_ = 0;
  std::chrono::steady_clock::time_point last_touch_{};
  std::chrono::milliseconds touch_interval_{5000};
  std::int64_t inactivity_ms_ = 5000 * 4;
};

}  // namespace jotgate::proxy
