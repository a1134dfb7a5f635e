#include "proxy/server.h"

#include <algorithm>
#include <csignal>
#include <future>
#include <map>
#include <mutex>
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

// One listener, for as long as the server lives: connections count against `open` until they
// end, even after a reload removed the listener.
struct ListenerSlot {
  std::uint64_t id = 0;
  config::Listener config;
  std::string address;  // "https://127.0.0.1:8443" with the bound port
  std::atomic<std::size_t> open{0};
};

// Same listener across a reload: same name, address and kind (a new certificate is not a new
// listener; its new handshakes use it).
bool same_listener(const config::Listener& a, const config::Listener& b) {
  return a.name == b.name && a.host == b.host && a.port == b.port &&
         a.tls.has_value() == b.tls.has_value();
}

}  // namespace

struct Server::Impl {
  Impl(const config::GatewayConfig& c, ServerOptions o) : limits(c.limits), options(std::move(o)) {}

  config::Limits limits;  // of the configuration in force (control thread)
  ServerOptions options;
  // Destroyed bottom-up: acceptors, then the control context (its pending accepts hold
  // sockets of the workers' contexts), then the runtime, then the workers, then the listener
  // slots (connections ending with their worker's io_context count down `open`).
  ServerState state;
  std::vector<std::unique_ptr<ListenerSlot>> slots;  // every listener ever started
  std::vector<std::unique_ptr<Worker>> workers;
  mutable std::mutex runtime_mutex;        // runtime and active are read from other threads
  std::shared_ptr<const Runtime> runtime;  // the current snapshot
  std::vector<ListenerSlot*> active;       // the listeners in force, in config order
  asio::io_context control{1};
  // SIGTERM/SIGINT (and SIGHUP with on_hangup), caught from create() on: one that comes before
  // run() (right after the addresses are printed) is queued, and run() handles it at once.
  std::optional<asio::signal_set> signals;
  std::map<std::uint64_t, std::unique_ptr<tcp::acceptor>> acceptors;  // by slot id
  std::uint64_t next_listener_id = 1;
  std::size_t next_worker = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  bool shutting_down = false;
  bool running = false;     // run() has started the accept loops
  std::mutex reload_mutex;  // one reload at a time

  std::vector<asio::any_io_executor> executors() const;
  // The snapshot in force, from any thread.
  std::shared_ptr<const Runtime> current() const {
    std::lock_guard lock(runtime_mutex);
    return runtime;
  }
  Result<void> build(const config::GatewayConfig& config, std::shared_ptr<auth::GateSet> gates);
  // The listeners of `config`: kept (same_listener) or bound anew; on error none is kept bound.
  struct Plan {
    std::vector<ListenerSlot*> kept_or_new;  // in config order
    std::vector<std::unique_ptr<ListenerSlot>> added;
    std::map<std::uint64_t, std::unique_ptr<tcp::acceptor>> bound;
  };
  Result<Plan> plan_listeners(const config::GatewayConfig& config);
  void publish(std::shared_ptr<Runtime> next);
  void commit(std::shared_ptr<Runtime> next, Plan plan);
  void watch_signals();
  asio::awaitable<void> accept_loop(ListenerSlot& slot, tcp::acceptor& acceptor);
  asio::awaitable<void> maintain_loop();
  asio::awaitable<void> retire_listener(std::uint64_t id);
  static asio::awaitable<void> sweep_loop(Worker& worker);
  void begin_shutdown();
  asio::awaitable<void> drain();
};

std::vector<asio::any_io_executor> Server::Impl::executors() const {
  std::vector<asio::any_io_executor> out;
  for (const auto& worker : workers) out.push_back(worker->ioc.get_executor());
  return out;
}

Result<Server::Impl::Plan> Server::Impl::plan_listeners(const config::GatewayConfig& config) {
  Plan plan;
  std::lock_guard lock(runtime_mutex);
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const config::Listener& listener = config.listeners[i];
    auto kept = std::find_if(active.begin(), active.end(), [&](const ListenerSlot* slot) {
      return same_listener(slot->config, listener);
    });
    if (kept != active.end()) {
      // The same socket; its other settings (trusted, ...) come with the new snapshot.
      plan.kept_or_new.push_back(*kept);
      continue;
    }
    auto acceptor = net::listen_tcp(control, listener.host, listener.port, "");
    if (!acceptor) {
      Error error = acceptor.error();
      error.detail = "listeners[" + std::to_string(i) + "]: " + error.detail;
      return error;
    }
    auto slot = std::make_unique<ListenerSlot>();
    slot->id = next_listener_id++;
    slot->config = listener;
    boost::system::error_code ec;
    const auto bound = (*acceptor)->local_endpoint(ec);
    slot->address = std::string(listener.tls ? "https://" : "http://") +
                    net::host_port(listener.host, bound.port());
    plan.bound[slot->id] = std::move(*acceptor);
    plan.kept_or_new.push_back(slot.get());
    plan.added.push_back(std::move(slot));
  }
  return plan;
}

Result<void> Server::Impl::build(const config::GatewayConfig& config,
                                 std::shared_ptr<auth::GateSet> gates) {
  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  for (unsigned t = 0; t < threads; ++t) workers.push_back(std::make_unique<Worker>(state, t));
  auto built = Runtime::create(config, std::move(gates), executors(), options.metrics);
  if (!built) return built.error();
  auto plan = plan_listeners(config);
  if (!plan) return plan.error();
  commit(std::move(*built), std::move(*plan));
  return {};
}

// Names the snapshot's listeners by their slots' ids and makes it the one new requests take.
void Server::Impl::publish(std::shared_ptr<Runtime> next) {
  for (std::size_t i = 0; i < next->listeners.size(); ++i) next->listeners[i].id = active[i]->id;
  std::shared_ptr<const Runtime> snapshot = std::move(next);
  {
    std::lock_guard lock(runtime_mutex);
    runtime = snapshot;
  }
  for (auto& worker : workers) {
    if (!running) {
      worker->runtime = snapshot;  // the workers' threads have not started
      continue;
    }
    asio::post(worker->ioc, [w = worker.get(), snapshot] {
      auto old = std::exchange(w->runtime, snapshot);
      if (old) old->retire_upstreams_of(w->index);
    });
  }
}

// The swap (control thread, or create() before anything runs): listeners, snapshot, gates.
void Server::Impl::commit(std::shared_ptr<Runtime> next, Plan plan) {
  std::vector<std::uint64_t> removed;
  {
    std::lock_guard lock(runtime_mutex);
    for (ListenerSlot* slot : active) {
      if (std::find(plan.kept_or_new.begin(), plan.kept_or_new.end(), slot) ==
          plan.kept_or_new.end()) {
        removed.push_back(slot->id);
      }
    }
    active = plan.kept_or_new;
    for (auto& slot : plan.added) slots.push_back(std::move(slot));
  }
  auto gates = next->gates;
  publish(std::move(next));
  gates->activate();
  for (auto& [id, acceptor] : plan.bound) {
    tcp::acceptor& bound = *acceptor;
    acceptors[id] = std::move(acceptor);
    if (running) {
      ListenerSlot* slot = *std::find_if(active.begin(), active.end(),
                                         [id = id](const ListenerSlot* s) { return s->id == id; });
      spdlog::info("listening on {} (listener {})", slot->address, slot->config.name);
      asio::co_spawn(control, accept_loop(*slot, bound), asio::detached);
    }
  }
  for (std::uint64_t id : removed) asio::co_spawn(control, retire_listener(id), asio::detached);
}

// A listener a reload removed: no more connections; those open end when idle, or after
// limits.shutdown_grace whatever they do.
asio::awaitable<void> Server::Impl::retire_listener(std::uint64_t id) {
  if (auto it = acceptors.find(id); it != acceptors.end()) {
    // Closed, not destroyed: its accept loop still refers to it when the cancellation arrives.
    boost::system::error_code ec;
    it->second->close(ec);
  }
  const auto for_its_connections = [this, id](auto action) {
    for (auto& worker : workers) {
      asio::post(worker->ioc, [w = worker.get(), id, action] {
        std::vector<ConnectionBase*> all(w->connections.begin(), w->connections.end());
        for (auto* connection : all) {
          if (connection->listener_id() == id) action(*connection);
        }
      });
    }
  };
  for_its_connections([](ConnectionBase& c) { c.close_if_idle(); });
  asio::steady_timer timer(control, limits.shutdown_grace);
  co_await timer.async_wait(kNoThrow);
  if (shutting_down) co_return;
  for_its_connections([](ConnectionBase& c) { c.close_now(); });
}

asio::awaitable<void> Server::Impl::accept_loop(ListenerSlot& slot, tcp::acceptor& acceptor) {
  std::atomic<std::size_t>& open = slot.open;
  const bool tls = slot.config.tls.has_value();
  const std::uint64_t id = slot.id;
  std::optional<std::chrono::steady_clock::time_point> last_full_warning;
  for (;;) {
    // Connections are spread round robin over the workers; each stays on its worker.
    Worker& worker = *workers[next_worker++ % workers.size()];
    auto [ec, socket] = co_await acceptor.async_accept(worker.ioc, kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      spdlog::warn("accept on {}: {}", slot.address, ec.message());
      // Out of file descriptors: back off instead of spinning.
      asio::steady_timer pause(control, std::chrono::milliseconds(100));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    const std::size_t max_connections = limits.max_connections;
    if (open.load() >= max_connections) {
      // Full: closed at once, before a session or TLS state exists, so a flood costs no memory
      // and the connections already open keep being served.
      boost::system::error_code ignored;
      socket.close(ignored);
      const auto now = std::chrono::steady_clock::now();
      if (!last_full_warning || now - *last_full_warning >= std::chrono::seconds(10)) {
        last_full_warning = now;
        spdlog::warn("{}: limits.max_connections ({}) reached: closing new connections",
                     slot.address, max_connections);
      }
      continue;
    }
    asio::post(worker.ioc,
               [&worker, id, tls, s = std::move(socket), slot = ConnectionSlot(open)]() mutable {
                 if (tls) {
                   start_tls_connection(worker, id, std::move(s), std::move(slot));
                 } else {
                   start_plain_connection(worker, id, std::move(s), std::move(slot));
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
    runtime->gates->maintain();  // the control thread is the one that replaces `runtime`
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
  if (options.on_shutdown) options.on_shutdown();
  for (auto& [id, acceptor] : acceptors) {
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
    if (options.handle_signals) {
      impl->signals.emplace(impl->control, SIGINT, SIGTERM);
      if (options.on_hangup) impl->signals->add(SIGHUP);
    }
  } catch (const std::exception& e) {  // start-up only: OpenSSL or system errors
    return make_error(Reason::kBadRequest, std::string("cannot start: ") + e.what());
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::vector<std::string> Server::addresses() const {
  std::vector<std::string> out;
  for (const auto& listener : listeners()) out.push_back(listener.address);
  return out;
}

std::vector<ListenerInfo> Server::listeners() const {
  std::lock_guard lock(impl_->runtime_mutex);
  std::vector<ListenerInfo> out;
  for (const ListenerSlot* slot : impl_->active) {
    out.push_back({slot->config.name, slot->address, slot->open.load()});
  }
  return out;
}

std::shared_ptr<auth::GateSet> Server::gates() const { return impl_->current()->gates; }

Result<void> Server::reload(const config::GatewayConfig& config,
                            std::shared_ptr<auth::GateSet> gates) {
  Impl& impl = *impl_;
  std::lock_guard one_at_a_time(impl.reload_mutex);
  try {
    auto built = Runtime::create(config, std::move(gates), impl.executors(), impl.options.metrics);
    if (!built) return built.error();
    auto plan = impl.plan_listeners(config);
    if (!plan) return plan.error();
    // The swap happens on the control thread, which owns the acceptors and the shutdown.
    auto done = std::make_shared<std::promise<Result<void>>>();
    auto swapped = done->get_future();
    asio::post(impl.control, [&impl, done, limits = config.limits, next = std::move(*built),
                              plan = std::move(*plan)]() mutable {
      if (impl.shutting_down) {
        done->set_value(make_error(Reason::kBadRequest, "the gateway is shutting down"));
        return;
      }
      impl.limits = limits;
      impl.commit(std::move(next), std::move(plan));
      done->set_value(Result<void>{});
    });
    // The control thread stops with the shutdown: then the swap never comes.
    for (int waited = 0;
         swapped.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready; ++waited) {
      if (impl.state.stopping.load() || waited >= 300) {
        return make_error(Reason::kBadRequest, "the gateway is shutting down");
      }
    }
    return swapped.get();
  } catch (const std::exception& e) {  // OpenSSL or system errors while building
    return make_error(Reason::kConfigInvalid, std::string("cannot apply: ") + e.what());
  }
}

void Server::Impl::watch_signals() {
  signals->async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      options.on_hangup();
      watch_signals();
      return;
    }
    begin_shutdown();
  });
}

void Server::run() {
  Impl& impl = *impl_;
  if (impl.signals) impl.watch_signals();
  for (auto& worker : impl.workers) {
    impl.guards.push_back(asio::make_work_guard(worker->ioc));
    asio::co_spawn(worker->ioc, Impl::sweep_loop(*worker), asio::detached);
  }
  std::vector<std::thread> threads;
  for (auto& worker : impl.workers) {
    threads.emplace_back([w = worker.get()] { w->ioc.run(); });
  }
  impl.running = true;
  for (ListenerSlot* slot : impl.active) {
    asio::co_spawn(impl.control, impl.accept_loop(*slot, *impl.acceptors.at(slot->id)),
                   asio::detached);
  }
  asio::co_spawn(impl.control, impl.maintain_loop(), asio::detached);
  impl.control.run();
  for (auto& thread : threads) thread.join();
  // Idle upstream sockets belong to the workers' io_contexts: closed before those go.
  impl.runtime->close_idle_upstreams();
}

void Server::collect(metrics::Scrape& scrape) const {
  for (const ListenerInfo& listener : listeners()) {
    scrape.listeners.push_back({listener.name, listener.open_connections});
  }
  const std::shared_ptr<const Runtime> runtime = impl_->current();
  const auto now = std::chrono::steady_clock::now();
  for (const VirtualProxyRuntime& vp : runtime->virtual_proxies) {
    metrics::Scrape::VirtualProxy live{
        vp.config.name, vp.gate->live_sessions(), vp.gate->keys_loaded(), {}, {}};
    const auto wall_now = std::chrono::system_clock::now();
    for (const auth::KeySourceStatus& source : vp.gate->key_sources()) {
      std::optional<double> age;
      if (source.fetched_at) {
        age = std::chrono::duration<double>(wall_now.time_since_epoch()).count() -
              static_cast<double>(*source.fetched_at);
      }
      live.key_sources.push_back({source.name, source.fetches_ok, source.fetches_failed, age});
    }
    for (const UpstreamRuntime& upstream : vp.upstreams) {
      live.upstreams.push_back({upstream.config.url, !runtime->health().is_down(upstream.id, now)});
    }
    scrape.virtual_proxies.push_back(std::move(live));
  }
}

std::vector<metrics::ReadinessProblem> Server::readiness() const {
  std::vector<metrics::ReadinessProblem> problems;
  if (impl_->state.stopping.load()) problems.push_back({"gateway", "", "shutting down"});
  // Every listener in force is bound: a reload whose new listener cannot bind changes nothing.
  const std::shared_ptr<const Runtime> runtime = impl_->current();
  if (std::string why = runtime->gates->session_store_problem(); !why.empty()) {
    problems.push_back({"session_store", "redis", std::move(why)});
  }
  // PostgreSQL unreachable: the allocations and revocations last read still apply, but grants
  // and revocations fail until it is back.
  if (std::string why = runtime->gates->database_problem(); !why.empty()) {
    problems.push_back({"database", "postgresql", "unreachable (" + why + ")"});
  }
  for (const VirtualProxyRuntime& vp : runtime->virtual_proxies) {
    if (vp.config.auth.method != config::AuthMethod::kJwt) continue;
    // A provider without keys (with several providers, the others may have theirs).
    if (vp.gate->keys_loaded() != 0 && vp.gate->keys_problem().empty()) continue;
    std::string problem = "no usable verification key";
    // Why, when a reload could not use the key file: "<file>:<line>:<col>: <path>: <problem>".
    if (std::string why = vp.gate->keys_problem(); !why.empty()) problem += ": " + why;
    problems.push_back({"virtual_proxy", vp.config.name, std::move(problem)});
  }
  return problems;
}

void Server::stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace jotgate::proxy
