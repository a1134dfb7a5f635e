// Server: the gateway's listeners and I/O threads, serving one runtime snapshot (runtime.h)
// built from a configuration and the gates. run() serves until SIGTERM/SIGINT (or stop()), then
// stops accepting, lets in-flight requests finish for up to limits.shutdown_grace, and returns.
//   auto server = Server::create(config, gates, {.threads = 4});    // binds the listeners
//   for (auto& a : (*server)->addresses()) print(a);                 // "https://127.0.0.1:8443"
//   (*server)->run();
#pragma once

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
  unsigned threads = 0;                  // 0: one per core
  bool handle_signals = true;            // SIGTERM/SIGINT start the graceful shutdown
  metrics::Registry* metrics = nullptr;  // null: nothing counted; else outlives the server
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
