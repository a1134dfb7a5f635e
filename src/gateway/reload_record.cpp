#include "gateway/reload_record.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/file.h"

namespace jotgate::gateway {

namespace fs = std::filesystem;

// Readable by the operator's other tools, as before (only secrets are 0600).
constexpr unsigned kRecordMode = 0644;

std::string pid_file_path(const std::string& data_dir) {
  return (fs::path(data_dir) / "jotgate.pid").string();
}

Result<void> write_pid_file(const std::string& data_dir, const std::string& config_path) {
  return replace_file(pid_file_path(data_dir),
                      std::to_string(::getpid()) + "\n" + config_path + "\n", kRecordMode);
}

void remove_pid_file(const std::string& data_dir) {
  // Only our own: a newer gateway on the same data_dir may have written it since.
  auto current = read_pid_file(data_dir);
  if (current && current->pid == ::getpid()) {
    std::error_code ignored;
    fs::remove(pid_file_path(data_dir), ignored);
  }
}

std::optional<PidFile> read_pid_file(const std::string& data_dir) {
  auto text = read_file(pid_file_path(data_dir));
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  PidFile file;
  std::string pid;
  if (!std::getline(in, pid) || !std::getline(in, file.config_path)) return std::nullopt;
  try {
    file.pid = static_cast<pid_t>(std::stol(pid));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (file.pid <= 0) return std::nullopt;
  return file;
}

Result<void> write_reload_record(const std::string& data_dir, const ReloadRecord& record) {
  nlohmann::json json = {{"pid", record.pid},
                         {"number", record.number},
                         {"result", record.report.applied ? "ok" : "error"},
                         {"problems", record.report.problems},
                         {"warnings", record.report.warnings}};
  return replace_file((fs::path(data_dir) / "reload.json").string(),
                      json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                      kRecordMode);
}

std::optional<ReloadRecord> read_reload_record(const std::string& data_dir) {
  auto text = read_file((fs::path(data_dir) / "reload.json").string());
  if (!text) return std::nullopt;
  try {
    const auto json = nlohmann::json::parse(*text);
    ReloadRecord record;
    record.pid = json.at("pid").get<pid_t>();
    record.number = json.at("number").get<std::uint64_t>();
    record.report.applied = json.at("result").get<std::string>() == "ok";
    record.report.problems = json.at("problems").get<std::vector<std::string>>();
    record.report.warnings = json.at("warnings").get<std::vector<std::string>>();
    return record;
  } catch (const std::exception&) {
    return std::nullopt;  // being replaced, or not ours
  }
}

}  // namespace jotgate::gateway
