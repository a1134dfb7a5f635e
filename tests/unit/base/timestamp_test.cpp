// Timestamps: RFC 3339 and Unix seconds in, RFC 3339 (UTC) out; everything else refused.
#include <gtest/gtest.h>

#include "base/timestamp.h"

namespace jotgate {
namespace {

TEST(Timestamp, UnixSecondsAndRfc3339) {
  EXPECT_EQ(parse_timestamp("0"), std::optional<UnixSeconds>(0));
  EXPECT_EQ(parse_timestamp("1896091200"), std::optional<UnixSeconds>(1896091200));
  EXPECT_EQ(parse_timestamp("2030-01-31T12:00:00Z"), std::optional<UnixSeconds>(1896091200));
  EXPECT_EQ(parse_timestamp("2030-01-31t12:00:00z"), std::optional<UnixSeconds>(1896091200));
  EXPECT_EQ(parse_timestamp("2030-01-31T13:30:00.75+01:30"),
            std::optional<UnixSeconds>(1896091200));
  EXPECT_EQ(parse_timestamp("2030-01-31T10:00:00-02:00"), std::optional<UnixSeconds>(1896091200));
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), std::optional<UnixSeconds>(0));
  EXPECT_EQ(parse_timestamp("2024-02-29T00:00:00Z"), std::optional<UnixSeconds>(1709164800));
  EXPECT_EQ(parse_timestamp("9999-12-31T23:59:59Z"), std::optional<UnixSeconds>(253402300799));
}

TEST(Timestamp, AnythingElseIsRefused) {
  for (const char* bad : {"",
                          " 1",
                          "1 ",
                          "-1",
                          "+5",
                          "1e9",
                          "253402300800",
                          "99999999999999999999",
                          "2030-01-31",
                          "2030-01-31T12:00:00",
                          "2030-01-31 12:00:00Z",
                          "2030-13-01T00:00:00Z",
                          "2030-02-29T00:00:00Z",
                          "2030-01-32T00:00:00Z",
                          "2030-01-31T24:00:00Z",
                          "2030-01-31T12:00:00.Z",
                          "2030-01-31T12:00:00+0100",
                          "2030-01-31T12:00:00Zx",
                          "1969-12-31T23:59:59Z",
                          "tomorrow"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

TEST(Timestamp, FormatsInUtc) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(1896091200), "2030-01-31T12:00:00Z");
  EXPECT_EQ(parse_timestamp(format_timestamp(1709164800)), std::optional<UnixSeconds>(1709164800));
}

}  // namespace
}  // namespace jotgate
