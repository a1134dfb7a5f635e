#include "auth/audit.h"

#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace jotgate::auth {

spdlog::logger& audit_log() {
  // The lock makes "look up, else create" one step: two threads never both create it.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("audit")) return *existing;
  return *spdlog::stdout_logger_mt("audit");
}

}  // namespace jotgate::auth
