// Log fields: safe values bare, everything else quoted and escaped, so that a line parses back
// into exactly the fields written, whatever bytes the values hold.
#include "base/log_field.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

int hex(char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; }

// A strict key=value reader of the format: bare values run to the next space; quoted ones
// end at an unescaped quote. nullopt for anything else.
std::optional<std::vector<std::pair<std::string, std::string>>> parse(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t eq = line.find('=', at);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key(line.substr(at, eq - at));
    if (key.empty() || key.find(' ') != std::string::npos) return std::nullopt;
    std::string value;
    at = eq + 1;
    if (at < line.size() && line[at] == '"') {
      for (++at;; ++at) {
        if (at >= line.size()) return std::nullopt;
        char c = line[at];
        if (c == '"') break;
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (++at >= line.size()) return std::nullopt;
        switch (line[at]) {
          case '"': value.push_back('"'); break;
          case '\\': value.push_back('\\'); break;
          case 'n': value.push_back('\n'); break;
          case 'r': value.push_back('\r'); break;
          case 't': value.push_back('\t'); break;
          case 'x':
            if (at + 2 >= line.size()) return std::nullopt;
            value.push_back(static_cast<char>(hex(line[at + 1]) * 16 + hex(line[at + 2])));
            at += 2;
            break;
          default: return std::nullopt;
        }
      }
      ++at;
    } else {
      const std::size_t end = std::min(line.find(' ', at), line.size());
      value = std::string(line.substr(at, end - at));
      if (value == "-") value.clear();
      at = end;
    }
    fields.emplace_back(std::move(key), std::move(value));
    if (at < line.size()) {
      if (line[at] != ' ') return std::nullopt;
      ++at;
    }
  }
  return fields;
}

TEST(LogField, SafeValuesStayBare) {
  EXPECT_EQ(log_field("ACME\\alice"), "ACME\\alice");
  EXPECT_EQ(log_field("/users/{directory}/{id}/sessions"), "/users/{directory}/{id}/sessions");
  EXPECT_EQ(log_field("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(log_field(""), "-");
}

TEST(LogField, OtherValuesAreQuotedAndEscaped) {
  EXPECT_EQ(log_field("-"), "\"-\"");
  EXPECT_EQ(log_field("x event=sign_in user=ACME\\admin"),
            "\"x event=sign_in user=ACME\\\\admin\"");
  EXPECT_EQ(log_field("a=b"), "\"a=b\"");
  EXPECT_EQ(log_field("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(log_field("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(log_field(std::string("\0\x1b\x7f", 3)), "\"\\x00\\x1b\\x7f\"");
  EXPECT_EQ(log_field("M\xc3\xbcller"), "\"M\\xc3\\xbcller\"");
}

TEST(LogField, ForgedFieldsStayInsideTheirValue) {
  const std::string user = "x event=sign_in user=ACME\\admin";
  const std::string line = "event=sign_in vp=jwt user=" + log_field(user) + " method=jwt";
  auto fields = parse(line);
  ASSERT_TRUE(fields) << line;
  ASSERT_EQ(fields->size(), 4u) << line;
  EXPECT_EQ((*fields)[0], (std::pair<std::string, std::string>{"event", "sign_in"}));
  EXPECT_EQ((*fields)[2], (std::pair<std::string, std::string>{"user", user}));
  EXPECT_EQ((*fields)[3], (std::pair<std::string, std::string>{"method", "jwt"}));
}

TEST(LogField, EveryByteRoundTrips) {
  std::vector<std::string> values = {
      "",  "-", "--",          "\"",    "\\",    "\\\"",
      " ", "=", "a b=c \"d\"", "end\\", "\\x41", "line\nevent=forged"};
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) {
    all_bytes.push_back(static_cast<char>(b));
    values.push_back(std::string(1, static_cast<char>(b)));
  }
  values.push_back(all_bytes);
  for (const auto& value : values) {
    const std::string line = "a=" + log_field(value) + " b=" + log_field(value);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto fields = parse(line);
    ASSERT_TRUE(fields) << line;
    ASSERT_EQ(fields->size(), 2u) << line;
    EXPECT_EQ((*fields)[0].second, value) << line;
    EXPECT_EQ((*fields)[1].second, value) << line;
  }
}

}  // namespace
}  // namespace jotgate
