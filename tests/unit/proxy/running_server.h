// RunningServer: a proxy::Server on a thread of its own, for tests over real sockets.
//   RunningServer server;
//   server.start(config, gates);         // a test failure when it cannot bind
//   connect to 127.0.0.1:server.port(); server.join() (also done by the destructor)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "proxy/server.h"

namespace jotgate::proxy {

class RunningServer {
 public:
  RunningServer() = default;
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  ~RunningServer() { join(); }

  // Options of a server under test: no signal handling (the test process keeps its own).
  static ServerOptions options(unsigned threads) {
    ServerOptions options;
    options.threads = threads;
    options.handle_signals = false;
    return options;
  }

  void start(const config::GatewayConfig& config, auth::GateSet& gates) {
    // Not owned: the test's gates outlive the server.
    std::shared_ptr<auth::GateSet> shared(std::shared_ptr<void>(), &gates);
    auto server = Server::create(config, shared, options(2));
    ASSERT_TRUE(server.ok()) << server.error().detail;
    server_ = std::move(*server);
    const std::string address = server_->addresses().at(0);
    port_ = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
    thread_ = std::thread([this] { server_->run(); });
  }

  // Begins the graceful shutdown; requests in flight may still finish.
  void stop() {
    if (server_) server_->stop();
  }

  // Stops and waits until the server has finished.
  void join() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  std::uint16_t port() const { return port_; }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace jotgate::proxy
