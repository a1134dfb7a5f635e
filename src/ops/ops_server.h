// OpsServer: the ops listener (the `ops` section). Plain HTTP on its own address and its own
// thread, answering answer_ops_request(); meant for loopback or a private network, and still
// bounded: small request heads only, no bodies, header and idle timeouts, at most
// kMaxConnections connections.
//   auto ops = OpsServer::create(*config.ops, config.limits, source);
//   print((*ops)->address());      // "http://127.0.0.1:9100"
//   (*ops)->start();  ...  (*ops)->stop();
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.h"
#include "config/gateway_config.h"
#include "ops/ops_answer.h"

namespace jotgate::ops {

class OpsServer {
 public:
  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::size_t kMaxHeaderBytes = 8 * 1024;

  // Binds the address ("cannot listen on 127.0.0.1:9100 (ops listener): ..."). `source` must
  // outlive the server.
  static Result<std::unique_ptr<OpsServer>> create(const config::OpsSettings& settings,
                                                   const config::Limits& limits, OpsSource& source);
  ~OpsServer();  // stops and joins

  std::string address() const;  // "http://127.0.0.1:9100" with the bound port
  void start();                 // serves on its own thread
  // Stops accepting, closes the connections (a scrape in flight is cut), joins the thread.
  void stop();

 private:
  struct Impl;
  explicit OpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jotgate::ops
