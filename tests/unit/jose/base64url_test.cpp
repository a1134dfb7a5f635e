#include "jose/base64url.h"

#include <gtest/gtest.h>

namespace jotgate::jose {
namespace {

TEST(Base64Url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Url, UsesTheUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), std::string("\xfb\xff\xbf"));
}

TEST(Base64Url, RoundTripsEveryByteAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const auto part = bytes.substr(bytes.size() - n);
    const auto decoded = base64url_decode(base64url_encode(part));
    ASSERT_TRUE(decoded) << n;
    EXPECT_EQ(*decoded, part);
  }
}

TEST(Base64Url, RefusesAnythingButStrictBase64Url) {
  EXPECT_FALSE(base64url_decode("Zg=="));    // padding
  EXPECT_FALSE(base64url_decode("Zm8="));    // padding
  EXPECT_FALSE(base64url_decode("+/+/"));    // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm9v\n"));  // line break
  EXPECT_FALSE(base64url_decode("Zm 9v"));   // space
  EXPECT_FALSE(base64url_decode("Z"));       // impossible length
  EXPECT_FALSE(base64url_decode("Zm9vY"));   // impossible length
  EXPECT_FALSE(base64url_decode("Zh"));      // non-zero trailing bits ("Zg" is canonical)
  EXPECT_FALSE(base64url_decode("Zm9"));     // non-zero trailing bits ("Zm8" is canonical)
  EXPECT_FALSE(base64url_decode(std::string_view("Zg\0", 3)));
  EXPECT_FALSE(base64url_decode("Zm9v\xc3\xa9"));
}

}  // namespace
}  // namespace jotgate::jose
