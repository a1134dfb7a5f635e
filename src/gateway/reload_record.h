// The files through which `jotgate reload` finds and hears from the gateway that serves a
// configuration, in its data_dir: `jotgate.pid` (the process and the file it serves) and
// `reload.json` (how the last reload went, numbered). Neither holds a secret.
//   write_pid_file(data_dir, config_path);                    // at start; remove_pid_file at stop
//   write_reload_record(data_dir, {pid, 3, report});           // after each reload
//   auto record = read_reload_record(data_dir);                // the CLI waits for number 4
#pragma once

#include <sys/types.h>
#include <optional>
#include <string>

#include "admin/admin_backend.h"
#include "base/result.h"

namespace jotgate::gateway {

struct PidFile {
  pid_t pid = 0;
  std::string config_path;  // absolute
};

std::string pid_file_path(const std::string& data_dir);
Result<void> write_pid_file(const std::string& data_dir, const std::string& config_path);
void remove_pid_file(const std::string& data_dir);
std::optional<PidFile> read_pid_file(const std::string& data_dir);

struct ReloadRecord {
  pid_t pid = 0;
  std::uint64_t number = 0;  // 1 for the first reload of this process
  admin::ReloadReport report;
};

Result<void> write_reload_record(const std::string& data_dir, const ReloadRecord& record);
std::optional<ReloadRecord> read_reload_record(const std::string& data_dir);

}  // namespace jotgate::gateway
