#include "cli/serve_output.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "auth/audit.h"
#include "base/log_line.h"

namespace jotgate::cli {

namespace {

// spdlog's lines as JSON lines: event "diagnostic", the text in "message".
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    const std::string line = json_log_line(
        utc_timestamp(msg.time), std::string_view(level.data(), level.size()), "diagnostic",
        {{"message", std::string_view(msg.payload.data(), msg.payload.size())}});
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

void print_json(std::string_view event,
                nlohmann::ordered_json fields = nlohmann::ordered_json::object()) {
  std::cout << json_log_line(utc_timestamp(std::chrono::system_clock::now()), "info", event,
                             std::move(fields))
            << std::flush;
}

}  // namespace

ServeOutput::ServeOutput(config::LogFormat format) : json_(format == config::LogFormat::kJson) {
  auth::set_audit_format(format);
  if (json_) spdlog::default_logger()->set_formatter(std::make_unique<JsonLineFormatter>());
}

void ServeOutput::listening(const std::vector<std::string>& addresses,
                            const std::vector<std::string>& listener_names,
                            const std::optional<std::string>& admin_address,
                            const std::optional<std::string>& ops_address) const {
  // Tests and scripts read these lines (docs/configuration.md, "Start-up output").
  if (json_) {
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      print_json("listening", {{"address", addresses[i]}, {"listener", listener_names[i]}});
    }
    if (admin_address) print_json("listening", {{"address", *admin_address}, {"admin_api", true}});
    if (ops_address) print_json("listening", {{"address", *ops_address}, {"ops", true}});
    return;
  }
  std::cout << "jotgate is listening on:\n";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    std::cout << "  " << addresses[i] << " (listener " << listener_names[i] << ")\n";
  }
  if (admin_address) std::cout << "  " << *admin_address << " (admin API)\n";
  if (ops_address) std::cout << "  " << *ops_address << " (ops: /healthz /readyz /metrics)\n";
}

void ServeOutput::ready() const {
  if (json_) return print_json("ready");
  std::cout << "Stop with Ctrl-C." << std::endl;
}

void ServeOutput::stopped() const {
  if (json_) return print_json("stopped");
  std::cout << "jotgate stopped" << std::endl;
}

}  // namespace jotgate::cli
