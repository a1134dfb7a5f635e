#include "base/hex.h"

#include <string>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

TEST(Hex, DigitValues) {
  EXPECT_EQ(hex_value('0'), 0);
  EXPECT_EQ(hex_value('9'), 9);
  EXPECT_EQ(hex_value('a'), 10);
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_EQ(hex_value('g'), -1);
  EXPECT_EQ(hex_value('G'), -1);
  EXPECT_EQ(hex_value('%'), -1);
  EXPECT_EQ(hex_value('/'), -1);  // one below '0'
  EXPECT_EQ(hex_value(':'), -1);  // one above '9'
}

TEST(Hex, EncodesEveryByteAsTwoDigits) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string encoded = hex_encode(all);
  ASSERT_EQ(encoded.size(), 512u);
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(hex_value(encoded[2 * b]) * 16 + hex_value(encoded[2 * b + 1]), b);
  }
}

TEST(Hex, AppendsInTheAskedCase) {
  std::string out = "%";
  append_hex(out, 0x2f, HexCase::kUpper);
  append_hex(out, 0xab);
  append_hex(out, 0xCD, HexCase::kUpper);
  EXPECT_EQ(out, "%2FabCD");
}

}  // namespace
}  // namespace jotgate
