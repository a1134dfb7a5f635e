// JSON log lines: the fixed keys first on every line, null where they do not apply, then the
// line's own fields; no value can break the line (quotes, control characters, invalid UTF-8).
#include "base/log_line.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace jotgate {
namespace {

std::vector<std::string> keys(const nlohmann::ordered_json& line) {
  std::vector<std::string> out;
  for (const auto& [key, value] : line.items()) out.push_back(key);
  return out;
}

TEST(JsonLogLine, FixedKeysComeFirstAndAreNullWhenTheyDoNotApply) {
  const std::string line = json_log_line("2026-12-01T19:50:31.123Z", "info", "ready", {});
  EXPECT_EQ(line, R"({"ts":"2026-12-01T19:50:31.123Z","level":"info","event":"ready","vp":null,)"
                  R"("user":null,"reason":null,"client":null,"request_id":null,"trace_id":null})"
                  "\n");
}

TEST(JsonLogLine, FieldsNamedLikeFixedKeysFillThemAndTheOthersFollowInOrder) {
  const std::string line = json_log_line(
      "t", "info", "request",
      {{"status", 200}, {"user", "ACME\\alice"}, {"method", "GET"}, {"vp", "jwt"}, {"reason", ""}},
      {"5f0c2d9e81b3a7c4-1f", "4bf92f3577b34da6a3ce929d0e0e4736"});
  const auto parsed = nlohmann::ordered_json::parse(line);
  EXPECT_EQ(keys(parsed),
            (std::vector<std::string>{"ts", "level", "event", "vp", "user", "reason", "client",
                                      "request_id", "trace_id", "status", "method"}));
  EXPECT_EQ(parsed["vp"], "jwt");
  EXPECT_EQ(parsed["user"], "ACME\\alice");
  EXPECT_TRUE(parsed["reason"].is_null());  // "" is null
  EXPECT_EQ(parsed["request_id"], "5f0c2d9e81b3a7c4-1f");
  EXPECT_EQ(parsed["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed["status"], 200);
}

TEST(JsonLogLine, NoValueBreaksTheLine) {
  const std::string hostile = std::string("a\"b\\c\nd\re\x01\x7f", 12) + "\xff\xc3(" + "\u2028";
  const std::string line =
      json_log_line("t", "info", "request", {{"path", hostile}}, {hostile, ""});
  ASSERT_EQ(line.find('\n'), line.size() - 1) << line;
  for (char c : line.substr(0, line.size() - 1)) {
    ASSERT_TRUE(c >= 0x20 && c < 0x7f) << line;  // ASCII: U+2028 breaks lines for some readers
  }
  const auto parsed = nlohmann::json::parse(line);  // valid UTF-8 and JSON
  // Invalid bytes become U+FFFD; everything else comes back as written.
  const std::string expected =
      std::string("a\"b\\c\nd\re\x01\x7f", 12) + "\xef\xbf\xbd\xef\xbf\xbd(" + "\u2028";
  EXPECT_EQ(parsed["path"], expected);
  EXPECT_EQ(parsed["request_id"], expected);
  EXPECT_TRUE(parsed["trace_id"].is_null());
}

TEST(UtcTimestamp, IsRfc3339InUtcWithMilliseconds) {
  const std::chrono::system_clock::time_point time{std::chrono::milliseconds(1796154631007)};
  EXPECT_EQ(utc_timestamp(time), "2026-12-01T19:50:31.007Z");
}

}  // namespace
}  // namespace jotgate
