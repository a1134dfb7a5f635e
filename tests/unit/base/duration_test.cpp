#include "base/duration.h"

#include <gtest/gtest.h>

namespace jotgate {
namespace {

TEST(ParseDurationSeconds, AcceptsPlainSecondsAndUnits) {
  EXPECT_EQ(parse_duration_seconds("0"), 0);
  EXPECT_EQ(parse_duration_seconds("90"), 90);
  EXPECT_EQ(parse_duration_seconds("90s"), 90);
  EXPECT_EQ(parse_duration_seconds("30m"), 1800);
  EXPECT_EQ(parse_duration_seconds("8h"), 28800);
  EXPECT_EQ(parse_duration_seconds("2d"), 172800);
}

TEST(ParseDurationSeconds, RefusesEverythingElse) {
  for (const char* text : {"", "s", "-5", "-5m", "+5", "5x", "5 m", " 5", "5.5h", "1h30m", "m5",
                           "99999999999999999999", "9223372036854775807d"}) {
    EXPECT_FALSE(parse_duration_seconds(text)) << text;
  }
}

TEST(ParseDurationSeconds, RefusesMilliseconds) {
  for (const char* text : {"250ms", "1000ms", "0ms"}) {
    EXPECT_FALSE(parse_duration_seconds(text)) << text;
  }
}

TEST(ParseDuration, AcceptsMillisecondsAndEveryUnitOfSeconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("0ms"), milliseconds(0));
  EXPECT_EQ(parse_duration("1500ms"), milliseconds(1500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("90"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("2s"), milliseconds(2000));
  EXPECT_EQ(parse_duration("30m"), milliseconds(1'800'000));
  EXPECT_EQ(parse_duration("8h"), milliseconds(28'800'000));
  EXPECT_EQ(parse_duration("2d"), milliseconds(172'800'000));
}

TEST(ParseDuration, RefusesEverythingElse) {
  for (const char* text :
       {"", "ms", "s", "-5ms", "+5ms", "5 ms", "5.5ms", "5mss", "5sm", "1s500ms", "5Ms", "5x",
        "99999999999999999999ms", "9223372036854775807s", "9223372036854776s"}) {
    EXPECT_FALSE(parse_duration(text)) << text;
  }
}

TEST(FormatDuration, UsesTheLargestWholeUnit) {
  EXPECT_EQ(format_duration_seconds(0), "0s");
  EXPECT_EQ(format_duration_seconds(90), "90s");
  EXPECT_EQ(format_duration_seconds(1800), "30m");
  EXPECT_EQ(format_duration_seconds(7200), "2h");
  EXPECT_EQ(format_duration_seconds(172800), "2d");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(5000)), "5s");
}

TEST(FormatDuration, ReadsBackToTheSameValue) {
  for (std::int64_t seconds : {0, 1, 59, 61, 3600, 86399, 86400, 1000000}) {
    EXPECT_EQ(parse_duration_seconds(format_duration_seconds(seconds)), seconds) << seconds;
  }
  for (std::int64_t ms : {0, 1, 999, 1000, 1001, 60000}) {
    EXPECT_EQ(parse_duration(format_duration(std::chrono::milliseconds(ms))),
              std::chrono::milliseconds(ms));
  }
}

}  // namespace
}  // namespace jotgate
