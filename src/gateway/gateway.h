// Gateway: the running process: the proxy server, the admin listener and the ops listener
// (/healthz, /readyz, /metrics) over one set of gates, and the reload that replaces the
// configuration while it serves. A reload comes from SIGHUP
// (`jotgate reload` sends it, finding the process through the pid file in data_dir), from
// POST /api/v1/config/reload, or from a changed file with `watch: true`; one at a time, each
// logged (`event=config_reload result=ok|error`) and recorded in data_dir/reload.json.
//   auto gateway = Gateway::start(config, {.load = [&] { return load_config_file(path, ...); }},
//                                 clock);
//   for (const auto& l : (*gateway)->listeners()) print(l.address);
//   (*gateway)->run();   // until SIGTERM/SIGINT, then the graceful stop
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_backend.h"
#include "base/clock.h"
#include "base/result.h"
#include "config/gateway_config.h"
#include "proxy/server.h"

namespace jotgate::gateway {

struct GatewayOptions {
  unsigned threads = 0;  // 0: one per core
  // Reads the configuration again for a reload (the file, with config::KeyFiles::kMayFail, or
  // the embedded default); its error's detail lists the problems, one per line.
  std::function<Result<config::GatewayConfig>()> load;
  // The file `jotgate reload --config` names (pid file); "" without one.
  std::string config_path;
};

class Gateway {
 public:
  // Builds the gates, binds every listener and the admin listener, writes the pid file.
  static Result<std::unique_ptr<Gateway>> start(const config::GatewayConfig& config,
                                                GatewayOptions options, const Clock& clock);
  ~Gateway();

  std::vector<proxy::ListenerInfo> listeners() const;
  std::optional<std::string> admin_address() const;  // "https://127.0.0.1:4243"
  std::optional<std::string> ops_address() const;    // "http://127.0.0.1:9100"

  // Serves until SIGTERM/SIGINT (or stop()); returns after the graceful stop, with the sessions
  // saved to data_dir/sessions.db (read back by the next start).
  void run();
  void stop();
  // Reads the configuration again and applies it, or changes nothing. `trigger` says what asked
  // ("signal", "admin", "watch") in the log. Any thread; one reload at a time.
  admin::ReloadReport reload(std::string_view trigger);

 private:
  struct Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jotgate::gateway
