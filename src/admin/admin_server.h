// AdminServer: the admin listener. TLS only, on its own address and its own I/O thread; each
// connection is checked by ClientAuth and its requests answered by AdminApi. Plain HTTP sent to
// it gets a 400 saying to use https. Built once at start-up; stop() ends it gracefully.
//   auto admin = AdminServer::create(*config.admin, config.limits, backend);
//   print((*admin)->address());      // "https://127.0.0.1:4243"
//   (*admin)->start();  ...  (*admin)->stop();
#pragma once

#include <memory>
#include <string>

#include "admin/admin_backend.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::admin {

class AdminServer {
 public:
  // Loads (or generates) the certificate, the admin CA and the token file, and binds the
  // address; errors name what is wrong ("admin.token_file: ...", "cannot listen on ...").
  // `backend` must outlive the server. The admin listener keeps its start-up settings: a reload
  // does not change them (docs/operations.md).
  static Result<std::unique_ptr<AdminServer>> create(const config::AdminSettings& settings,
                                                     const config::Limits& limits,
                                                     AdminBackend& backend);
  ~AdminServer();  // stops and joins

  std::string address() const;  // "https://127.0.0.1:4243" with the bound port
  void start();                 // serves on its own thread
  // Stops accepting, closes idle connections, lets requests in flight finish (at most
  // limits.shutdown_grace), and joins the thread.
  void stop();

 private:
  struct Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jotgate::admin
