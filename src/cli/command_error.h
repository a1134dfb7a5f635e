// How every subcommand fails: it throws CommandError (through fail()), and main() alone prints
// the text to standard error and exits with the status.
//   fail(kExitUsage, "token sign", "give exactly one of --key or --secret-file");
//   // standard error: "jotgate token sign: give exactly one of --key or --secret-file", exit 2
#pragma once

#include <string>
#include <string_view>

namespace jotgate {
struct Error;
}

namespace jotgate::cli {

// Exit statuses, the same in every subcommand (0 is success).
constexpr int kExitFailed = 1;  // the input is invalid (token, configuration) or the work failed
constexpr int kExitUsage = 2;   // bad arguments, or a file named in them is unusable

struct CommandError {
  int exit_code;
  std::string text;  // printed as is, followed by a newline
};

// Fails with "jotgate <command>: <message>".
[[noreturn]] void fail(int exit_code, std::string_view command, std::string_view message);

// Fails with `text` exactly (a line scripts match, such as "TOKEN_EXPIRED: ...").
[[noreturn]] void fail_with_text(int exit_code, std::string text);

// Fails (kExitFailed) with "jotgate <command>: FILE is not valid:" and each problem of the
// configuration indented on a line of its own.
[[noreturn]] void fail_invalid_config(std::string_view command, std::string_view file,
                                      const Error& error);

}  // namespace jotgate::cli
