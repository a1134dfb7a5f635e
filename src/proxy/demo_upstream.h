// DemoUpstream: the built-in upstream of `jotgate serve` without --config. A tiny HTTP server
// on an ephemeral loopback port, on its own thread, answering every request with a page that
// shows the path and the identity headers the gateway sent (X-Jotgate-*, X-Forwarded-*).
//   auto demo = DemoUpstream::start();          // Result<unique_ptr<DemoUpstream>>
//   std::string url = "http://127.0.0.1:" + std::to_string((*demo)->port());
//   // destroyed: stops and joins its thread
#pragma once

#include <cstdint>
#include <memory>

#include "base/result.h"

namespace jotgate::proxy {

class DemoUpstream {
 public:
  static Result<std::unique_ptr<DemoUpstream>> start();
  ~DemoUpstream();
  std::uint16_t port() const;

 private:
  struct Impl;
  explicit DemoUpstream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jotgate::proxy
