// What `jotgate serve` writes itself, in the configured log_format: its diagnostics (spdlog's
// default logger, standard error, also the admin server's) and its start and stop lines on
// standard output. Text is the default and reads as before; with JSON every line is one object
// (base/log_line.h): diagnostics are event "diagnostic" with a "message", the start-up lines
// event "listening" (address, listener, admin_api or ops), then "ready", and "stopped" at the end.
//   ServeOutput output(config.log_format);     // after the configuration is read
//   output.listening(addresses, names, admin_address);  output.ready();  ...  output.stopped();
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/gateway_config.h"

namespace jotgate::cli {

class ServeOutput {
 public:
  // Sets the format of the default logger and of the audit log.
  explicit ServeOutput(config::LogFormat format);

  // One line per listener ("  http://127.0.0.1:41234 (listener http)"), then the admin API's,
  // then the ops listener's ("  http://127.0.0.1:9100 (ops: /healthz /readyz /metrics)").
  void listening(const std::vector<std::string>& addresses,
                 const std::vector<std::string>& listener_names,
                 const std::optional<std::string>& admin_address,
                 const std::optional<std::string>& ops_address) const;
  void ready() const;    // "Stop with Ctrl-C."
  void stopped() const;  // "jotgate stopped"

 private:
  bool json_;
};

}  // namespace jotgate::cli
