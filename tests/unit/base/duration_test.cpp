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

}  // namespace
}  // namespace jotgate
