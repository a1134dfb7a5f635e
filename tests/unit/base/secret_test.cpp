#include "base/secret.h"

#include <string>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "Secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secret "));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_FALSE(constant_time_equal("x", ""));
}

TEST(ConstantTimeEqual, SeesEveryByteIncludingNul) {
  const std::string a(64, '\0');
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string b = a;
    b[i] = '\x01';
    EXPECT_FALSE(constant_time_equal(a, b)) << i;
  }
  EXPECT_TRUE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace jotgate
