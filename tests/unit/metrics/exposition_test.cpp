#include "metrics/exposition.h"

#include <limits>

#include <gtest/gtest.h>

namespace jotgate::metrics {
namespace {

TEST(Exposition, EscapesBackslashQuoteAndLineFeedInLabelValues) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\nd"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("plain value/with:stuff"), "plain value/with:stuff");
  // Tabs and other bytes pass as they are (the format escapes only these three).
  EXPECT_EQ(escape_label_value("\t\xc3\xa9"), "\t\xc3\xa9");
}

TEST(Exposition, FormatsValuesAsPrometheusReadsThem) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(10), "10");
  EXPECT_EQ(format_value(1700000000), "1700000000");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Exposition, WritesFamiliesAndSamplesByteForByte) {
  TextWriter out;
  out.family("jotgate_requests_total", "counter", "Requests \\ answered.\nSecond line.");
  out.sample("jotgate_requests_total", {{"vp", "a\"b"}, {"code", "200"}}, std::uint64_t{3});
  out.sample("jotgate_requests_total", {}, 0.25);
  EXPECT_EQ(out.take(),
            "# HELP jotgate_requests_total Requests \\\\ answered.\\nSecond line.\n"
            "# TYPE jotgate_requests_total counter\n"
            "jotgate_requests_total{vp=\"a\\\"b\",code=\"200\"} 3\n"
            "jotgate_requests_total 0.25\n");
}

TEST(Exposition, ContentTypeIsVersion004) {
  EXPECT_EQ(kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace jotgate::metrics
