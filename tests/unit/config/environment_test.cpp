// expand_environment: each form of reference, the escape, and each malformed reference with
// the offset of its `$` and the exact message; the lookup is a fixed table.
#include <gtest/gtest.h>

#include <map>

#include "config/environment.h"

namespace jotgate::config {
namespace {

const std::map<std::string, std::string> kEnvironment = {
    {"HOME", "/home/jot"}, {"EMPTY", ""}, {"NESTED", "${HOME}"}, {"_X1", "x"}};

Expansion expand(std::string_view text) {
  return expand_environment(text, [](const std::string& name) -> std::optional<std::string> {
    auto found = kEnvironment.find(name);
    if (found == kEnvironment.end()) return std::nullopt;
    return found->second;
  });
}

std::string expanded(std::string_view text) {
  Expansion result = expand(text);
  EXPECT_TRUE(result.problems.empty()) << text << ": " << result.problems.at(0).message;
  return result.text;
}

// The one problem of `text` (a test failure unless there is exactly one).
EnvironmentProblem only_problem(std::string_view text) {
  Expansion result = expand(text);
  EXPECT_EQ(result.problems.size(), 1u) << text;
  return result.problems.empty() ? EnvironmentProblem{} : result.problems[0];
}

TEST(EnvironmentTest, TextWithoutReferencesIsUnchanged) {
  EXPECT_EQ(expanded(""), "");
  EXPECT_EQ(expanded("plain"), "plain");
  EXPECT_EQ(expanded("cost: $5, $HOME, $"), "cost: $5, $HOME, $");
  EXPECT_EQ(expanded("{HOME}"), "{HOME}");
}

TEST(EnvironmentTest, ReferencesAreReplacedAnywhereInTheValue) {
  EXPECT_EQ(expanded("${HOME}"), "/home/jot");
  EXPECT_EQ(expanded("prefix-${HOME}-suffix"), "prefix-/home/jot-suffix");
  EXPECT_EQ(expanded("${_X1}${_X1}"), "xx");
  EXPECT_EQ(expanded("${EMPTY}"), "");  // set but empty is a value, not an error
}

TEST(EnvironmentTest, DefaultsApplyWhenUnsetOrEmpty) {
  EXPECT_EQ(expanded("${UNSET:-/etc/jotgate}"), "/etc/jotgate");
  EXPECT_EQ(expanded("${EMPTY:-fallback}"), "fallback");
  EXPECT_EQ(expanded("${HOME:-fallback}"), "/home/jot");
  EXPECT_EQ(expanded("${UNSET:-}"), "");
  EXPECT_EQ(expanded("${UNSET:-a:-b $x}"), "a:-b $x");  // the default is literal text
}

TEST(EnvironmentTest, ValuesAndDefaultsAreNotExpandedAgain) {
  EXPECT_EQ(expanded("${NESTED}"), "${HOME}");
  EXPECT_EQ(expanded("${UNSET:-${HOME}"), "${HOME");  // the default ends at the first '}'
}

TEST(EnvironmentTest, DoubleDollarWritesALiteralReference) {
  EXPECT_EQ(expanded("$${HOME}"), "${HOME}");
  EXPECT_EQ(expanded("a$${UNSET}b${HOME}"), "a${UNSET}b/home/jot");
  EXPECT_EQ(expanded("$$HOME"), "$$HOME");
}

TEST(EnvironmentTest, UnsetVariableIsAProblemAtItsDollar) {
  EnvironmentProblem problem = only_problem("a-${MISSING}-${HOME}");
  EXPECT_EQ(problem.offset, 2u);
  EXPECT_EQ(problem.message,
            "the environment variable MISSING is not set (${MISSING:-default} gives a default)");
  EXPECT_EQ(expand("a-${MISSING}-${HOME}").text, "a-${MISSING}-/home/jot");  // kept as written
}

TEST(EnvironmentTest, MalformedReferencesAreProblemsAtTheirDollar) {
  for (std::string_view bad : {"${}", "${1X}", "${A B}", "${A-x}", "${A:?err}", "${:-x}"}) {
    EnvironmentProblem problem = only_problem("v=" + std::string(bad));
    EXPECT_EQ(problem.offset, 2u) << bad;
    EXPECT_EQ(problem.message,
              "\"" + std::string(bad) +
                  "\" is not ${NAME} or ${NAME:-default} (NAME: letters, digits and _, not "
                  "starting with a digit)");
  }
}

TEST(EnvironmentTest, UnclosedReferenceIsAProblem) {
  EnvironmentProblem problem = only_problem("${HOME}/${DATA");
  EXPECT_EQ(problem.offset, 8u);
  EXPECT_EQ(problem.message, "\"${\" is not closed by \"}\" (a literal \"${\" is written \"$${\")");
}

TEST(EnvironmentTest, EveryProblemOfAValueIsReported) {
  Expansion result = expand("${A1_UNSET}:${2}:${B_UNSET:-ok}:${C_UNSET}");
  ASSERT_EQ(result.problems.size(), 3u);
  EXPECT_EQ(result.problems[0].offset, 0u);
  EXPECT_EQ(result.problems[1].offset, 12u);
  EXPECT_EQ(result.problems[2].offset, 32u);
}

}  // namespace
}  // namespace jotgate::config
