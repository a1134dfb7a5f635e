#include "auth/audit.h"

#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "base/log_field.h"

namespace jotgate::auth {

spdlog::logger& audit_log() {
  // The lock makes "look up, else create" one step: two threads never both create it.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("audit")) return *existing;
  return *spdlog::stdout_logger_mt("audit");
}

void audit(std::string_view event, std::initializer_list<AuditField> fields) {
  std::string line = "event=";
  line.append(event);
  for (const AuditField& field : fields) {
    line.push_back(' ');
    line.append(field.key);
    line.push_back('=');
    append_log_field(line, field.value);
  }
  audit_log().info("{}", line);
}

}  // namespace jotgate::auth
