#include "proxy/server.h"

#include <csignal>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/listen.h"
#include "proxy/worker.h"

namespace jotgate::proxy {

namespace {

using tcp = asio::ip::tcp;

}  // namespace

struct Server::Impl {
  Impl(const config::GatewayConfig& c, ServerOptions o)
      : limits(c.limits), listeners(c.listeners), options(o) {}

  const config::Limits limits;
  const std::vector<config::Listener> listeners;
  ServerOptions options;
  // Destroyed bottom-up: acceptors, then the control context (its pending accepts hold
  // sockets of the workers' contexts), then the runtime, then the workers.
  ServerState state;
  // Connections open by listener index (limits.max_connections): counted down by connections
  // that end with their worker's io_context, so destroyed after the workers.
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> open_connections;
  std::vector<std::unique_ptr<Worker>> workers;
  std::shared_ptr<const Runtime> runtime;  // the current snapshot
  asio::io_context control{1};
  // SIGTERM/SIGINT, caught from create() on: one that comes before run() (right after the
  // addresses are printed) is queued, and run() shuts down gracefully at once.
  std::optional<asio::signal_set> signals;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;  // by listener index
  std::vector<std::string> addresses;
  std::size_t next_worker = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  bool shutting_down = false;

  Result<void> build(const config::GatewayConfig& config, std::shared_ptr<auth::GateSet> gates);
  asio::awaitable<void> accept_loop(std::size_t listener_index);
  asio::awaitable<void> maintain_loop();
  static asio::awaitable<void> sweep_loop(Worker& worker);
  void begin_shutdown();
  asio::awaitable<void> drain();
};

Result<void> Server::Impl::build(const config::GatewayConfig& config,
                                 std::shared_ptr<auth::GateSet> gates) {
  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  std::vector<asio::any_io_executor> executors;
  for (unsigned t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<Worker>(state, t));
    executors.push_back(workers.back()->ioc.get_executor());
  }
  auto built = Runtime::create(config, std::move(gates), executors, options.metrics);
  if (!built) return built.error();
  runtime = std::move(*built);
  for (auto& worker : workers) worker->runtime = runtime;

  for (const auto& listener : config.listeners) {
    auto acceptor = net::listen_tcp(control, listener.host, listener.port, "");
    if (!acceptor) return acceptor.error();
    boost::system::error_code ec;
    const auto bound = (*acceptor)->local_endpoint(ec);
    addresses.push_back(std::string(listener.tls ? "https://" : "http://") +
                        net::host_port(listener.host, bound.port()));
    acceptors.push_back(std::move(*acceptor));
    open_connections.push_back(std::make_unique<std::atomic<std::size_t>>(0));
  }
  return {};
}

asio::awaitable<void> Server::Impl::accept_loop(std::size_t listener_index) {
  tcp::acceptor& acceptor = *acceptors[listener_index];
  std::atomic<std::size_t>& open = *open_connections[listener_index];
  const bool tls = listeners[listener_index].tls.has_value();
  const std::size_t max_connections = limits.max_connections;
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
    if (open.load() >= max_connections) {
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
    asio::post(worker.ioc, [&worker, listener_index, tls, s = std::move(socket),
                            slot = ConnectionSlot(open)]() mutable {
      if (tls) {
        start_tls_connection(worker, listener_index, std::move(s), std::move(slot));
      } else {
        start_plain_connection(worker, listener_index, std::move(s), std::move(slot));
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
    runtime->gates->maintain();
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
  state.stopping.store(true);
  spdlog::info("shutting down: no new connections, finishing requests in flight");
  for (auto& acceptor : acceptors) {
    boost::system::error_code ec;
    acceptor->close(ec);
  }
  for (auto& worker : workers) {
    asio::post(worker->ioc, [w = worker.get()] {
      // Copy: closing a connection may end it, which erases it from the set.
      std::vector<ConnectionBase*> connections(w->connections.begin(), w->connections.end());
      for (auto* connection : connections) connection->close_if_idle();
    });
  }
  asio::co_spawn(control, drain(), asio::detached);
}

asio::awaitable<void> Server::Impl::drain() {
  auto deadline = std::chrono::steady_clock::now() + limits.shutdown_grace;
  asio::steady_timer timer(control);
  while (state.open_connections.load() != 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(kNoThrow);
  }
  if (state.open_connections.load() != 0) {
    spdlog::warn("shutdown grace period over: closing {} connections",
                 state.open_connections.load());
  }
  guards.clear();
  for (auto& worker : workers) worker->ioc.stop();
  control.stop();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::create(const config::GatewayConfig& config,
                                               std::shared_ptr<auth::GateSet> gates,
                                               ServerOptions options) {
  auto impl = std::make_unique<Impl>(config, options);
  try {
    auto built = impl->build(config, std::move(gates));
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
  // Idle upstream sockets belong to the workers' io_contexts: closed before those go.
  impl.runtime->close_idle_upstreams();
}

void Server::collect(metrics::Scrape& scrape) const {
  const Runtime& runtime = *impl_->runtime;
  for (const ListenerRuntime& listener : runtime.listeners) {
    scrape.listeners.push_back(
        {listener.config.name, impl_->open_connections[listener.index]->load()});
  }
  const auto now = std::chrono::steady_clock::now();
  for (const VirtualProxyRuntime& vp : runtime.virtual_proxies) {
    metrics::Scrape::VirtualProxy live{
        vp.config.name, vp.gate->live_sessions(), vp.gate->keys_loaded(), {}};
    for (const UpstreamRuntime& upstream : vp.upstreams) {
      live.upstreams.push_back({upstream.config.url, !runtime.health().is_down(upstream.id, now)});
    }
    scrape.virtual_proxies.push_back(std::move(live));
  }
}

std::vector<metrics::ReadinessProblem> Server::readiness() const {
  std::vector<metrics::ReadinessProblem> problems;
  const Runtime& runtime = *impl_->runtime;
  if (impl_->state.stopping.load()) {
    // The acceptors are being closed on the control thread: not looked at any more.
    problems.push_back({"gateway", "", "shutting down"});
  } else {
    for (const ListenerRuntime& listener : runtime.listeners) {
      if (listener.index >= impl_->acceptors.size() ||
          !impl_->acceptors[listener.index]->is_open()) {
        problems.push_back({"listener", listener.config.name, "not listening"});
      }
    }
  }
  for (const VirtualProxyRuntime& vp : runtime.virtual_proxies) {
    if (vp.config.auth.method == config::AuthMethod::kJwt && vp.gate->keys_loaded() == 0) {
      problems.push_back({"virtual_proxy", vp.config.name, "no usable verification key"});
    }
  }
  return problems;
}

void Server::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace jotgate::proxy
