#include "base/percent_encoding.h"

#include <gtest/gtest.h>

namespace jotgate {
namespace {

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

TEST(PercentEncoding, EncodesWhatTheCallerDoesNotKeep) {
  EXPECT_TRUE(is_unreserved('a') && is_unreserved('Z') && is_unreserved('7'));
  EXPECT_TRUE(is_unreserved('-') && is_unreserved('.') && is_unreserved('_') && is_unreserved('~'));
  EXPECT_FALSE(is_unreserved('/') || is_unreserved('%') || is_unreserved(' ') ||
               is_unreserved(0xC3));
  EXPECT_EQ(percent_encode("http://a b/c?x=1&y=\xc3\xa9", is_unreserved),
            "http%3A%2F%2Fa%20b%2Fc%3Fx%3D1%26y%3D%C3%A9");
  EXPECT_EQ(percent_encode("a\nb", [](unsigned char c) { return c != '\n'; }), "a%0Ab");
  EXPECT_EQ(percent_decode(percent_encode("any \x01 bytes%", is_unreserved)), "any \x01 bytes%");
}

}  // namespace
}  // namespace jotgate
