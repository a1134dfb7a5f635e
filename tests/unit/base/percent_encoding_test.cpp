#include "base/percent_encoding.h"

#include <gtest/gtest.h>

namespace jotgate {
namespace {

TEST(PercentEncoding, HexDigits) {
  EXPECT_EQ(hex_value('0'), 0);
  EXPECT_EQ(hex_value('9'), 9);
  EXPECT_EQ(hex_value('a'), 10);
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_EQ(hex_value('g'), -1);
  EXPECT_EQ(hex_value('%'), -1);
}

TEST(PercentEncoding, DecodesAndRefusesBrokenEscapes) {
  EXPECT_EQ(percent_decode("a%2Fb%c3%A9"), "a/b\xc3\xa9");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b%2B", true), "a b+");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(percent_decode(""), "");
  for (const char* bad : {"%", "%2", "a%2", "%zz", "%2g", "%%41"}) {
    EXPECT_FALSE(percent_decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace jotgate
