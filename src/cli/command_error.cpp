#include "cli/command_error.h"

#include "config/gateway_config.h"

namespace jotgate::cli {

void fail(int exit_code, std::string_view command, std::string_view message) {
  std::string text = "jotgate ";
  text.append(command).append(": ").append(message);
  fail_with_text(exit_code, std::move(text));
}

void fail_with_text(int exit_code, std::string text) {
  throw CommandError{exit_code, std::move(text)};
}

void fail_invalid_config(std::string_view command, std::string_view file, const Error& error) {
  std::string text = "jotgate ";
  text.append(command).append(": ").append(file).append(" is not valid:");
  for (const auto& line : config::error_lines(error)) text.append("\n  ").append(line);
  fail_with_text(kExitFailed, std::move(text));
}

}  // namespace jotgate::cli
