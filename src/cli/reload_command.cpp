// `jotgate reload --config FILE`: asks the gateway that serves FILE to read its configuration,
// keys and certificates again. It finds the gateway through the pid file in the data_dir the
// file names, sends it SIGHUP and waits for the outcome the gateway records (reload.json), so
// it can say whether the new configuration is in force and, when not, why.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/command_error.h"
#include "cli/commands.h"
#include "config/gateway_config.h"
#include "gateway/reload_record.h"

namespace jotgate::cli {

namespace {

namespace fs = std::filesystem;

struct ReloadOptions {
  std::string config_file;
  unsigned timeout_seconds = 30;
};

[[noreturn]] void fail(std::string_view message) { cli::fail(kExitFailed, "reload", message); }

// The problems, each line as `jotgate config check` prints it, under one line saying so.
[[noreturn]] void fail_with_problems(const std::string& heading,
                                     const std::vector<std::string>& problems) {
  std::string text = "jotgate reload: " + heading;
  for (const auto& problem : problems) text += "\n" + problem;
  fail_with_text(kExitFailed, std::move(text));
}

void run_reload(const ReloadOptions& options) {
  const std::string path = fs::absolute(options.config_file).lexically_normal().string();
  // The file may have become invalid: its data_dir is still where the gateway is found.
  auto config = config::load_config_file(path, config::KeyFiles::kMayFail);
  const std::string data_dir = config ? config->data_dir : config::data_dir_of(path);
  std::vector<std::string> local_problems;
  if (!config) local_problems = config::error_lines(config.error());

  auto pid_file = gateway::read_pid_file(data_dir);
  if (!pid_file || ::kill(pid_file->pid, 0) != 0) {
    const std::string why = "no gateway is running for " + path + " (no live process in " +
                            gateway::pid_file_path(data_dir) + ")";
    if (!local_problems.empty())
      fail_with_problems(why + "; the file is not valid:", local_problems);
    fail(why);
  }
  if (pid_file->config_path != path) {
    fail("the gateway in " + data_dir + " (pid " + std::to_string(pid_file->pid) + ") serves " +
         (pid_file->config_path.empty() ? "the embedded default" : pid_file->config_path) +
         ", not " + path);
  }
  std::uint64_t before = 0;
  if (auto last = gateway::read_reload_record(data_dir); last && last->pid == pid_file->pid) {
    before = last->number;
  }
  if (::kill(pid_file->pid, SIGHUP) != 0) {
    fail("cannot signal the gateway (pid " + std::to_string(pid_file->pid) + ")");
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto record = gateway::read_reload_record(data_dir);
    if (record && record->pid == pid_file->pid && record->number > before) {
      const std::string who = " (pid " + std::to_string(pid_file->pid) + ")";
      if (!record->report.applied) {
        fail_with_problems(
            path + " was not applied; the gateway" + who + " keeps serving its configuration:",
            record->report.problems);
      }
      std::cout << path << ": reloaded" << who << "\n";
      for (const auto& warning : record->report.warnings)
        std::cerr << "warning: " << warning << "\n";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fail("the gateway (pid " + std::to_string(pid_file->pid) + ") did not report a reload within " +
       std::to_string(options.timeout_seconds) + " s");
}

}  // namespace

void add_reload_command(CLI::App& root) {
  auto options = std::make_shared<ReloadOptions>();
  CLI::App* reload =
      root.add_subcommand("reload", "Make the running gateway read its configuration again");
  reload->add_option("--config", options->config_file, "The configuration file it serves")
      ->required();
  reload->add_option("--timeout", options->timeout_seconds, "Seconds to wait for the outcome")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  reload->footer(
      "Finds the gateway through the pid file in the file's data_dir, sends it SIGHUP and waits\n"
      "for the outcome. Exit 0 and \"FILE: reloaded (pid N)\" when the new configuration is in\n"
      "force (warnings, such as a key file a virtual proxy could not use, on standard error).\n"
      "Exit 1 when it was not applied (the gateway keeps serving the old one), with each\n"
      "problem as \"FILE:LINE:COLUMN: yaml.path: problem\", or when no gateway serves FILE.\n"
      "Example:\n"
      "  jotgate reload --config /etc/jotgate/jotgate.yaml\n");
  reload->callback([options] { run_reload(*options); });
}

}  // namespace jotgate::cli
