// Server: the gateway's listeners and I/O threads, serving one runtime snapshot (runtime.h)
// built from a configuration and the gates. run() serves until SIGTERM/SIGINT (or stop()), then
// stops accepting, lets in-flight requests finish for up to limits.shutdown_grace, and returns.
// reload() swaps in a snapshot of a new configuration while it serves.
//   auto server = Server::create(config, gates, {.threads = 4});    // binds the listeners
//   for (auto& a : (*server)->addresses()) print(a);                 // "https://127.0.0.1:8443"
//   (*server)->run();                       // elsewhere: (*server)->reload(new_config, new_gates)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/gate.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "metrics/readiness.h"
#include "metrics/registry.h"

namespace jotgate::proxy {

struct ServerOptions {
  unsigned threads = 0;        // 0: one per core
  bool handle_signals = true;  // SIGTERM/SIGINT start the graceful shutdown
  // With handle_signals: SIGHUP is caught and calls this (on the server's control thread: it
  // must return quickly, e.g. by queueing a reload). Unset: SIGHUP keeps its default action.
  std::function<void()> on_hangup;
  std::function<void()> on_shutdown;     // called once when the graceful shutdown begins
  metrics::Registry* metrics = nullptr;  // null: nothing counted; else outlives the server
};

// A listener in force, for start-up output, logs and the metrics.
struct ListenerInfo {
  std::string name;
  std::string address;  // "https://127.0.0.1:8443" with the bound port
  std::size_t open_connections = 0;
};

class Server {
 public:
  // Builds the runtime snapshot (it shares the gates), binds every listener (errors name the
  // address, e.g. "127.0.0.1:8443: address already in use"), loads or generates TLS
  // certificates; from here on SIGTERM/SIGINT are caught (with handle_signals), so one sent
  // before run() is not fatal. Nothing refers to `config` afterwards.
  static Result<std::unique_ptr<Server>> create(const config::GatewayConfig& config,
                                                std::shared_ptr<auth::GateSet> gates,
                                                ServerOptions options);
  ~Server();

  // "http://127.0.0.1:8080", "https://0.0.0.0:8443" with the bound ports (port 0 in the config:
  // the one the system chose), in the order of config.listeners.
  std::vector<std::string> addresses() const;
  std::vector<ListenerInfo> listeners() const;
  // The gates new requests use (the admin API acts on their sessions and tickets).
  std::shared_ptr<auth::GateSet> gates() const;

  // Serves `config` from now on, with `gates` (built for it from gates(), see GateSet::create):
  // reads the TLS files again and binds the listeners it adds; on any error nothing changes.
  // Then, atomically for new requests: the new snapshot is in force (requests under way keep
  // theirs), gates->activate() is called, listeners it removed stop accepting and their
  // connections end when idle or after limits.shutdown_grace. Errors name the place
  // ("listeners[1]: 127.0.0.1:8444: address already in use"). Any thread but the server's
  // control thread (on_hangup runs there: queue the reload); one reload at a time.
  Result<void> reload(const config::GatewayConfig& config, std::shared_ptr<auth::GateSet> gates);
  // Serves until stop() or a signal; returns after the graceful shutdown.
  void run();
  // Starts the graceful shutdown; callable from any thread.
  void stop();

  // Any thread (the ops listener's): the gauges of a scrape (open connections by listener,
  // live sessions, keys and upstream health by virtual proxy), and what keeps the gateway from
  // being ready: a listener not bound, a virtual proxy of auth.method jwt without a usable
  // key, or the shutdown in progress. Empty: ready.
  void collect(metrics::Scrape& scrape) const;
  std::vector<metrics::ReadinessProblem> readiness() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jotgate::proxy
