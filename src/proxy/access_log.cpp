#include "proxy/access_log.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/log_field.h"

namespace jotgate::proxy {

Result<std::unique_ptr<AccessLog>> AccessLog::open(const config::GatewayConfig& config) {
  if (config.access_log.empty()) {
    return std::make_unique<AccessLog>(stdout, false, config.log_format);
  }
  std::FILE* file = std::fopen(config.access_log.c_str(), "a");
  if (file == nullptr) {
    return make_error(Reason::kFileUnwritable, config.access_log + ": " + std::strerror(errno));
  }
  return std::make_unique<AccessLog>(file, true, config.log_format);
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

std::string AccessLog::format(const AccessRecord& r, std::string_view timestamp) const {
  if (format_ == config::LogFormat::kJson) {
    return json_log_line(
        timestamp, "info", "request",
        {{"vp", r.virtual_proxy},
         {"user", r.user},
         {"client", r.client_ip},
         {"method", r.method},
         {"path", r.path},
         {"status", r.status},
         {"bytes", r.bytes},
         {"duration_ms",
          static_cast<double>(static_cast<std::int64_t>(r.duration_ms * 1000)) / 1000}},
        r.ids);
  }
  std::string out;
  out.reserve(128 + r.path.size());
  out.append(timestamp);
  out.push_back(' ');
  append_log_field(out, r.client_ip);
  out.push_back(' ');
  append_log_field(out, r.method);
  out.push_back(' ');
  append_log_field(out, r.path);
  char numbers[64];
  std::snprintf(numbers, sizeof numbers, " %d %llu %.3fms ", r.status,
                static_cast<unsigned long long>(r.bytes), r.duration_ms);
  out.append(numbers);
  out.append("vp=");
  append_log_field(out, r.virtual_proxy);
  out.append(" user=");
  append_log_field(out, r.user);
  out.push_back('\n');
  return out;
}

void AccessLog::write(const AccessRecord& record) {
  std::string line = format(record, utc_timestamp(std::chrono::system_clock::now()));
  std::fwrite(line.data(), 1, line.size(), file_);
  // Flushed per line so `tail -f` and tests see requests as they happen.
  std::fflush(file_);
}

}  // namespace jotgate::proxy
