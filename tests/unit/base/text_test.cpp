#include "base/text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

TEST(Text, TrimOwsRemovesOnlySpacesAndTabs) {
  EXPECT_EQ(trim_ows("  chunked\t"), "chunked");
  EXPECT_EQ(trim_ows("\t a b \t"), "a b");
  EXPECT_EQ(trim_ows(" \t "), "");
  EXPECT_EQ(trim_ows("\r\nx\r\n"), "\r\nx\r\n");  // CR and LF are not OWS
}

TEST(Text, TrimWhitespaceAlsoRemovesLineEnds) {
  EXPECT_EQ(trim_whitespace(" token\r\n"), "token");
  EXPECT_EQ(trim_whitespace("\n\t a b \r"), "a b");
  EXPECT_EQ(trim_whitespace(" \r\n\t"), "");
  EXPECT_EQ(trim_whitespace(""), "");
  EXPECT_EQ(trim_whitespace("x\vy"), "x\vy");
}

TEST(Text, CaseInsensitiveComparisonIsAsciiOnly) {
  EXPECT_TRUE(iequals("Bearer", "bEARER"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Bearer", "Bearer "));
  EXPECT_FALSE(iequals("none", "nonE2"));
  EXPECT_FALSE(iequals("a-b", "a_b"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // É and é: bytes outside ASCII compare exactly
  EXPECT_FALSE(iequals("@", "`"));                // 0x40 and 0x60 differ by the case bit only
  EXPECT_EQ(to_lower("Host.TEST:8443"), "host.test:8443");
  EXPECT_EQ(to_lower("\xc3\x89"), "\xc3\x89");
  EXPECT_EQ(ascii_lower('Z'), 'z');
  EXPECT_EQ(ascii_lower('['), '[');
}

TEST(Text, StartsWithIgnoringCase) {
  EXPECT_TRUE(istarts_with("X-Forwarded-For", "x-forwarded-"));
  EXPECT_TRUE(istarts_with("bearer", "BEARER"));
  EXPECT_TRUE(istarts_with("anything", ""));
  EXPECT_FALSE(istarts_with("Bear", "bearer"));
  EXPECT_FALSE(istarts_with("X_Forwarded-For", "x-forwarded-"));
}

TEST(Text, ControlCharactersAreC0AndDel) {
  for (int c = 0; c < 0x20; ++c) EXPECT_TRUE(is_control(static_cast<char>(c))) << c;
  EXPECT_TRUE(is_control('\x7f'));
  EXPECT_FALSE(is_control(' '));
  EXPECT_FALSE(is_control('~'));
  EXPECT_FALSE(is_control('\x80'));
  EXPECT_FALSE(is_control('\xff'));
  EXPECT_TRUE(has_control("a\nb"));
  EXPECT_TRUE(has_control(std::string("a\0b", 3)));
  EXPECT_TRUE(has_control("end\x7f"));
  EXPECT_FALSE(has_control("plain text, caf\xc3\xa9"));
  EXPECT_FALSE(has_control(""));
}

TEST(Text, ListElementsAreTrimmedAndEmptyOnesSkipped) {
  std::vector<std::string> seen;
  for_each_list_element(" gzip, ,\tchunked ,,", [&](std::string_view e) { seen.emplace_back(e); });
  EXPECT_EQ(seen, (std::vector<std::string>{"gzip", "chunked"}));
  seen.clear();
  for_each_list_element("", [&](std::string_view e) { seen.emplace_back(e); });
  EXPECT_TRUE(seen.empty());
}

TEST(UrlWithoutPassword, LeavesOutThePasswordOnly) {
  EXPECT_EQ(url_without_password("postgresql://jotgate:s3cret@db:5432/jotgate"),
            "postgresql://jotgate@db:5432/jotgate");
  EXPECT_EQ(url_without_password("redis://:s3cret@127.0.0.1:6379/0"), "redis://@127.0.0.1:6379/0");
  EXPECT_EQ(url_without_password("postgresql://jotgate@db/jotgate"),
            "postgresql://jotgate@db/jotgate");
  EXPECT_EQ(url_without_password("postgresql://db/j?password=s3cret"), "postgresql://db/j");
  EXPECT_EQ(url_without_password("postgresql://db/j?password=s3cret&sslmode=require"),
            "postgresql://db/j?sslmode=require");
  EXPECT_EQ(url_without_password("postgresql://db/j?sslmode=require&password=s3cret"),
            "postgresql://db/j?sslmode=require");
  EXPECT_EQ(url_without_password("postgresql://[::1]:5432/j"), "postgresql://[::1]:5432/j");
}

}  // namespace
}  // namespace jotgate
