// `${NAME}` and `${NAME:-default}` references in configuration values, replaced from the
// environment, so that a service manager can supply paths and secrets:
//   auto expanded = expand_environment("${STATE_DIRECTORY:-/var/lib/jotgate}/db", lookup);
//   if (expanded.problems.empty()) use(expanded.text);
// `$${` writes a literal `${`; any other `$` stays as it is. A value taken from the environment
// is not expanded again. Pure: the lookup is passed in (process_environment reads the real one).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jotgate::config {

// A reference that could not be replaced: where it starts in the text, and why.
struct EnvironmentProblem {
  std::size_t offset = 0;
  std::string message;
};

struct Expansion {
  std::string text;  // a reference with a problem is kept as written
  std::vector<EnvironmentProblem> problems;
};

// The value of an environment variable; nullopt when it is not set.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

std::optional<std::string> process_environment(const std::string& name);

// `${NAME}`: the variable's value (set but empty: empty); unset is a problem.
// `${NAME:-default}`: the default when the variable is unset or empty (as in the shell);
// `${NAME:-}` gives "". NAME is [A-Za-z_][A-Za-z0-9_]*; the default is literal text up to the
// first `}`. An unclosed `${` or a malformed reference is a problem at its `$`.
Expansion expand_environment(std::string_view text, const EnvironmentLookup& lookup);

}  // namespace jotgate::config
