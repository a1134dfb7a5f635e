#include "proxy/server.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <optional>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "pki/server_tls.h"
#include "proxy/context.h"

namespace jotgate::proxy {

namespace {

using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string host_port(const std::string& host, std::uint16_t port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<std::shared_ptr<asio::ssl::context>> make_server_tls(const config::TlsSettings& tls) {
  auto loaded = pki::server_tls_context(tls.certificate, tls.key, tls.generate_if_missing,
                                        tls.min_version == config::TlsVersion::kTls13);
  if (!loaded) return loaded.error();
  if (loaded->generated) spdlog::info("generated a self-signed TLS certificate: {}", tls.certificate);
  return std::make_shared<asio::ssl::context>(loaded->context.release());
}

}  // namespace

struct Server::Impl {
  Impl(const config::GatewayConfig& c, auth::GateSet& g, ServerOptions o)
      : config(c), gates(g), options(o) {}

  const config::GatewayConfig& config;
  auth::GateSet& gates;
  ServerOptions options;
  // Destroyed bottom-up: acceptors, then the control context (its pending accepts hold
  // sockets of the workers' contexts), then the workers, then what they refer to.
  ProxyContext ctx;
  std::vector<std::unique_ptr<Worker>> workers;
  asio::io_context control{1};
  // SIGTERM/SIGINT, caught from create() on: one that comes before run() (right after the
  // addresses are printed) is queued, and run() shuts down gracefully at once.
  std::optional<asio::signal_set> signals;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // by listener index
  std::vector<std::string> addresses;
  std::size_t next_worker = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  bool shutting_down = false;

  Result<void> build();
  asio::awaitable<void> accept_loop(std::size_t listener_index);
  asio::awaitable<void> maintain_loop();
  static asio::awaitable<void> sweep_loop(Worker& worker);
  void begin_shutdown();
  asio::awaitable<void> drain();
};

Result<void> Server::Impl::build() {
  ctx.config = &config;
  ctx.header_timeout = config.limits.header_timeout;
  ctx.handshake_timeout = config.limits.handshake_timeout;
  ctx.idle_timeout = config.limits.idle_timeout;
  ctx.body_timeout = config.limits.body_timeout;
  ctx.body_min_rate = config.limits.body_min_rate;

  ctx.upstream_tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx.upstream_tls->set_default_verify_paths();
  ctx.upstream_tls->set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_min_proto_version(ctx.upstream_tls->native_handle(), TLS1_2_VERSION);

  std::size_t upstream_id = 0;
  for (std::size_t i = 0; i < config.virtual_proxies.size(); ++i) {
    const config::VirtualProxy& vp = config.virtual_proxies[i];
    auth::Gate& gate = gates.gate(i);
    std::vector<std::string> allow;
    for (const auto& host : vp.host_allow_list) allow.push_back(lower(host));
    std::vector<UpstreamRuntime> upstreams;
    for (const auto& upstream : vp.upstreams) {
      upstreams.push_back(UpstreamRuntime{&upstream, upstream_id++,
                                          host_port(upstream.host, upstream.port)});
    }
    ctx.virtual_proxies.push_back(VirtualProxyRuntime{
        &vp, i, &gate,
        HeaderPolicy({gate.reserved_request_headers(), vp.response_headers,
                      vp.session.cookie_name, vp.allow_underscores_in_headers}),
        std::move(allow), std::move(upstreams), vp.connect_timeout, vp.read_timeout,
        CorsPolicy(vp.cors_allowed_origins)});
  }
  ctx.health = std::make_unique<UpstreamHealth>(upstream_id);

  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    const config::Listener& listener = config.listeners[l];
    ListenerRuntime runtime;
    runtime.config = &listener;
    runtime.index = l;
    for (std::size_t i = 0; i < config.virtual_proxies.size(); ++i) {
      const auto& names = config.virtual_proxies[i].listeners;
      if (names.empty() || std::find(names.begin(), names.end(), listener.name) != names.end()) {
        runtime.routes.add(config.virtual_proxies[i].prefix, i);
      }
    }
    if (listener.tls) {
      auto tls = make_server_tls(*listener.tls);
      if (!tls) return tls.error();
      runtime.tls = std::move(*tls);
    }
    ctx.listeners.push_back(std::move(runtime));
  }

  if (config.access_log_enabled) {
    auto log = AccessLog::open(config);
    if (!log) return log.error();
    ctx.access_log = std::move(*log);
  }

  for (const auto& listener : config.listeners) {
    std::string where = host_port(listener.host, listener.port);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(listener.host, ec);
    if (ec) return make_error(Reason::kBadRequest, "cannot listen on " + where + ": bad address");
    tcp::endpoint endpoint(address, listener.port);
    auto acceptor = std::make_unique<tcp::acceptor>(control);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error(Reason::kBadRequest, "cannot listen on " + where + ": " + ec.message() +
                                                 (ec == asio::error::address_in_use
                                                      ? " (is another jotgate or server running "
                                                        "on this port?)"
                                                      : ""));
    }
    auto bound = acceptor->local_endpoint(ec);
    addresses.push_back(std::string(listener.tls ? "https://" : "http://") +
                        host_port(listener.host, bound.port()));
    acceptors.push_back(std::move(acceptor));
  }

  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  for (unsigned t = 0; t < threads; ++t) workers.push_back(std::make_unique<Worker>(ctx));
  return {};
}

asio::awaitable<void> Server::Impl::accept_loop(std::size_t listener_index) {
  tcp::acceptor& acceptor = *acceptors[listener_index];
  const ListenerRuntime& listener = ctx.listeners[listener_index];
  const std::size_t max_connections = config.limits.max_connections;
  std::optional<std::chrono::steady_clock::time_point> last_full_warning;
  for (;;) {
    // Connections are spread round robin over the workers; each stays on its worker.
    Worker& worker = *workers[next_worker++ % workers.size()];
    auto [ec, socket] = co_await acceptor.async_accept(worker.ioc, kNoThrow);
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      spdlog::warn("accept on {}: {}", addresses[listener_index], ec.message());
      // Out of file descriptors: back off instead of spinning.
      asio::steady_timer pause(control, std::chrono::milliseconds(100));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    if (listener.open_connections->load() >= max_connections) {
      // Full: closed at once, before a session or TLS state exists, so a flood costs no memory
      // and the connections already open keep being served.
      boost::system::error_code ignored;
      socket.close(ignored);
      const auto now = std::chrono::steady_clock::now();
      if (!last_full_warning || now - *last_full_warning >= std::chrono::seconds(10)) {
        last_full_warning = now;
        spdlog::warn("{}: limits.max_connections ({}) reached: closing new connections",
                     addresses[listener_index], max_connections);
      }
      continue;
    }
    asio::post(worker.ioc, [&worker, &listener, s = std::move(socket),
                            slot = ConnectionSlot(*listener.open_connections)]() mutable {
      if (listener.tls) {
        start_tls_session(worker, listener, std::move(s), std::move(slot));
      } else {
        start_plain_session(worker, listener, std::move(s), std::move(slot));
      }
    });
  }
}

asio::awaitable<void> Server::Impl::maintain_loop() {
  asio::steady_timer timer(control);
  while (!shutting_down) {
    timer.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec || shutting_down) co_return;
    gates.maintain();
  }
}

asio::awaitable<void> Server::Impl::sweep_loop(Worker& worker) {
  asio::steady_timer timer(worker.ioc);
  for (;;) {
    timer.expires_after(Worker::kSweepInterval);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec) co_return;
    worker.sweep(std::chrono::steady_clock::now());
  }
}

void Server::Impl::begin_shutdown() {
  if (shutting_down) return;
  shutting_down = true;
  ctx.stopping.store(true);
  spdlog::info("shutting down: no new connections, finishing requests in flight");
  for (auto& acceptor : acceptors) {
    boost::system::error_code ec;
    acceptor->close(ec);
  }
  for (auto& worker : workers) {
    asio::post(worker->ioc, [w = worker.get()] {
      // Copy: closing a session may end it, which erases it from the set.
      std::vector<SessionBase*> sessions(w->sessions.begin(), w->sessions.end());
      for (auto* session : sessions) session->close_if_idle();
    });
  }
  asio::co_spawn(control, drain(), asio::detached);
}

asio::awaitable<void> Server::Impl::drain() {
  auto deadline =
      std::chrono::steady_clock::now() + config.limits.shutdown_grace;
  asio::steady_timer timer(control);
  while (ctx.open_sessions.load() != 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(kNoThrow);
  }
  if (ctx.open_sessions.load() != 0) {
    spdlog::warn("shutdown grace period over: closing {} connections", ctx.open_sessions.load());
  }
  guards.clear();
  for (auto& worker : workers) worker->ioc.stop();
  control.stop();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(const config::GatewayConfig& config,
                                               auth::GateSet& gates, ServerOptions options) {
  auto impl = std::make_unique<Impl>(config, gates, options);
  try {
    auto built = impl->build();
    if (!built) return built.error();
    if (options.handle_signals) impl->signals.emplace(impl->control, SIGINT, SIGTERM);
  } catch (const std::exception& e) {  // start-up only: OpenSSL or system errors
    return make_error(Reason::kBadRequest, std::string("cannot start: ") + e.what());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::vector<std::string> Server::addresses() const { return impl_->addresses; }

void Server::run() {
  Impl& impl = *impl_;
  if (impl.signals) {
    impl.signals->async_wait([&impl](const boost::system::error_code& ec, int) {
      if (!ec) impl.begin_shutdown();
    });
  }
  for (auto& worker : impl.workers) {
    impl.guards.push_back(asio::make_work_guard(worker->ioc));
    asio::co_spawn(worker->ioc, Impl::sweep_loop(*worker), asio::detached);
  }
  std::vector<std::thread> threads;
  for (auto& worker : impl.workers) {
    threads.emplace_back([w = worker.get()] { w->ioc.run(); });
  }
  for (std::size_t i = 0; i < impl.acceptors.size(); ++i) {
    asio::co_spawn(impl.control, impl.accept_loop(i), asio::detached);
  }
  asio::co_spawn(impl.control, impl.maintain_loop(), asio::detached);
  impl.control.run();
  for (auto& thread : threads) thread.join();
}

void Server::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace jotgate::proxy
